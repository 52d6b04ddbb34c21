"""Settings from command-line flags: one helper every `cogate` command shares."""

from __future__ import annotations

from typing import Any

import click
from cogate.core.settings import Settings


def build_settings(**flags: Any) -> Settings:
    """Flags win over COGATE_* variables, which win over defaults."""
    given = {key: value for key, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except Exception as exc:  # pydantic's ValidationError names the field and the problem
        raise click.UsageError(str(exc)) from None
