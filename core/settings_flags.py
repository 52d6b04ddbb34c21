"""Settings from command-line flags: one helper every `cogate` command shares, and the
one-line-per-error report of a bad flag or `COGATE_*` variable (exit code 2)."""

from __future__ import annotations

import json
import os
import re
from typing import IO, Any

import click
from cogate.core.settings import Settings
from pydantic import ValidationError
from pydantic_settings import SettingsError

# Flags whose name is not the setting's (repeatable flags name one item).
_FLAG_NAMES = {
    "public_hosts": "--public-host",
    "allowed_origins": "--allow-origin",
    "intercept_upstreams": "--intercept-upstream",
}
_ENV_NAMES = {"data_dir": ("COGATE_HOME", "COGATE_DATA_DIR")}
_FIXES = {
    "int_parsing": "use a whole number",
    "float_parsing": "use a number",
    "bool_parsing": "use true or false",
    "literal_error": "use one of the values listed",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
    "list_type": "use a comma-separated list (a,b) or a JSON list",
    "dict_type": "use KEY=VALUE,KEY=VALUE or a JSON object",
}
_EXAMPLES = {"port": "8787", "max_body_bytes": "4194304", "connect_timeout": "10"}


class SettingsInvalid(click.ClickException):
    """Bad settings: one line each naming the setting, its value and the fix; exit 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.message, err=True, file=file)


def build_settings(**flags: Any) -> Settings:
    """Flags win over COGATE_* variables, which win over defaults."""
    given = {key: value for key, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise SettingsInvalid("\n".join(explain_settings(exc, given))) from None
    except SettingsError as exc:  # a variable pydantic-settings could not even parse
        raise SettingsInvalid(explain_unparsed(exc, given)) from None


def setting_source(field: str, given: dict[str, Any]) -> str:
    """Where a setting came from: its flag, or the `COGATE_*` variable that is set."""
    if field in given:
        return _FLAG_NAMES.get(field, "--" + field.replace("_", "-"))
    names = _ENV_NAMES.get(field, (f"COGATE_{field.upper()}",))
    for name in names:
        if name in os.environ:
            return name
    return names[0]


def explain_settings(error: ValidationError, given: dict[str, Any]) -> list[str]:
    """One line per bad setting: `cogate: COGATE_PORT='abc': not a whole number; fix: …`."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "settings"
        source = setting_source(field, given)
        value = item.get("input")
        shown = "(hidden)" if field in ("token", "upstream_api_key", "database_url") else value
        message = item["msg"].removeprefix("Value error, ")
        fix = _FIXES.get(item["type"], "")
        if fix and field in _EXAMPLES:
            fix += f" such as {_EXAMPLES[field]}"
        sep = "=" if source.startswith("COGATE_") else " "
        line = f"cogate: {source}{sep}{shown!s:.80}: {message}"
        lines.append(line + (f"; fix: {fix}" if fix else ""))
    return lines


def explain_unparsed(error: SettingsError, given: dict[str, Any]) -> str:
    """A list or mapping variable that is neither comma-separated nor JSON, in one line."""
    match = re.search(r'field "(\w+)"', str(error))
    field = match.group(1) if match else "settings"
    source = setting_source(field, given)
    cause = error.__cause__
    if isinstance(cause, json.JSONDecodeError):
        problem = f"not valid JSON ({cause.msg})"
    else:
        problem = str(cause) if cause else "cannot be read"
    value = os.environ.get(source, "")
    return (
        f"cogate: {source}={value:.80}: {problem}; fix: write a list as a,b and a mapping "
        "as KEY=VALUE,KEY=VALUE (or either as JSON)"
    )
