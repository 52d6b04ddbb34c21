"""Settings from command-line flags: one helper every `cogate` command shares."""

from __future__ import annotations

from typing import Any

import click
from cogate.core.settings import Settings
from pydantic import ValidationError


def build_settings(**flags: Any) -> Settings:
    """Flags win over COGATE_* variables, which win over defaults."""
    given = {key: value for key, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:  # one line per field, naming it and the fix
        problems = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise click.UsageError("; ".join(problems)) from None
    except Exception as exc:
        raise click.UsageError(str(exc)) from None
