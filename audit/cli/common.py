"""What every `cogate audit` command shares: the data dir and database options, and the edge
that turns the library's plain exceptions into one line and exit code 2."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from cogate.core.settings_flags import build_settings

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data dir of the gateway (default: $COGATE_HOME, else the user data dir).",
)


def _postgres_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value and not value.startswith(("postgresql://", "postgres://")):
        raise click.BadParameter(
            "must be a PostgreSQL URL such as postgresql://cogate@db.internal:5432/cogate "
            "(or leave it out for the data dir's SQLite ledger)"
        )
    return value or None


database_url_option = click.option(
    "--database-url",
    envvar="COGATE_DATABASE_URL",
    callback=_postgres_url,
    help="The replicas' PostgreSQL ledger (postgresql://USER@HOST:PORT/DB; "
    "COGATE_DATABASE_URL). Keys and checkpoints.jsonl still come from --data-dir.",
)


def resolve_dir(data_dir: Path | None) -> Path:
    if data_dir is not None:
        return data_dir
    return build_settings().data_dir


def edge(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's plain exceptions into a message and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # The connection pool logs each failed attempt with psycopg's message, which can
        # quote the URL (and its password): the one line below says what failed instead.
        logging.getLogger("psycopg").addHandler(logging.NullHandler())
        logging.getLogger("psycopg").propagate = False
        try:
            return fn(*args, **kwargs)
        except (FileNotFoundError, ConnectionError, KeyError, ValueError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            click.echo(f"error: {message}", err=True)
            sys.exit(2)

    return wrapper
