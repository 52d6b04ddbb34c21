"""`cogate tokens add|list|revoke|reset`: the identities a shared gateway accepts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from cogate.audit.backends import open_tokens, open_writer
from cogate.audit.tokens import TokenError, TokenStore
from cogate.core.private_files import private_dir
from cogate.core.settings_flags import build_settings


def _where(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The store options every tokens command takes: a data dir, or the replicas' database."""
    fn = click.option(
        "--database-url",
        envvar="COGATE_DATABASE_URL",
        help="The replicas' PostgreSQL database (postgresql://USER@HOST:PORT/DB; "
        "COGATE_DATABASE_URL): tokens added here hold on every replica using it.",
    )(fn)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="The gateway's data dir (tokens live here when no database URL is given).",
    )(fn)


def _open(data_dir: Path | None, database_url: str | None) -> TokenStore:
    settings = build_settings(data_dir=data_dir, database_url=database_url)
    try:
        if settings.database_url:
            return open_tokens(settings.data_dir, settings.database_url)
        return open_tokens(private_dir(settings.data_dir))
    except ConnectionError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@click.group()
def tokens() -> None:
    """Identities of a shared gateway: with any token present, every request needs one."""


FIRST_TOKEN = (
    "warning: this gateway has no tokens yet (personal mode). Once this one exists, EVERY "
    "request needs a token, so every app now using the gateway gets 401 until it sends one "
    "(x-cogate-token, or Authorization: Bearer when COGATE_UPSTREAM_API_KEY is set). "
    "`cogate tokens reset --yes` returns to personal mode."
)


@tokens.command("add")
@click.argument("name")
@click.option("--app", "apps", multiple=True, help="An app whose policy routes this token may use.")
@click.option("--yes", is_flag=True, help="Confirm turning a personal gateway into a shared one.")
@_where
def add(
    name: str, apps: tuple[str, ...], yes: bool, data_dir: Path | None, database_url: str | None
) -> None:
    """Create identity NAME and print its token once, as the last line.

    Each add is a new identity, even under a name used before: a revoked holder's vaults and
    stored ids never pass to the next one. The first token turns the gateway shared, which
    needs --yes (or a yes at the prompt).
    """
    store = _open(data_dir, database_url)
    try:
        if not store.any_issued():
            click.echo(FIRST_TOKEN, err=True)
            if not yes and not (sys.stdin.isatty() and click.confirm("Continue?", err=True)):
                click.echo("no token added; pass --yes to confirm", err=True)
                sys.exit(2)
        token = store.add(name, apps)
    except TokenError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    finally:
        store.close()
    bound = ", ".join(sorted(set(apps))) or "none"
    click.echo(
        f"identity {name} (apps: {bound}); clients send this in x-cogate-token, or as "
        "`Authorization: Bearer` when the gateway has COGATE_UPSTREAM_API_KEY."
    )
    click.echo("It is shown only now; cogate keeps only its hash.")
    click.echo(token)


@tokens.command("reset")
@click.option("--yes", is_flag=True, required=True, help="Confirm forgetting every token.")
@_where
def reset(yes: bool, data_dir: Path | None, database_url: str | None) -> None:
    """Forget every token (active and revoked): the gateway returns to personal mode.

    Recorded in the audit ledger. Personal mode serves loopback only; a gateway started with
    COGATE_TOKEN stays shared until that is unset.
    """
    settings = build_settings(data_dir=data_dir, database_url=database_url)
    store = _open(data_dir, database_url)
    try:
        forgotten = store.reset()
    finally:
        store.close()
    directory = settings.data_dir if settings.database_url else private_dir(settings.data_dir)
    ledger = open_writer(directory, settings.database_url)
    try:
        seq = ledger.append({"v": 1, "kind": "tokens_reset", "forgotten": forgotten})
    finally:
        ledger.close()
    click.echo(
        f"forgot {forgotten} tokens; the gateway is in personal mode from the next request "
        f"(recorded as ledger entry {seq})"
    )


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per identity.")
@_where
def list_(as_json: bool, data_dir: Path | None, database_url: str | None) -> None:
    """The identities, their apps and whether they are revoked (never the tokens)."""
    store = _open(data_dir, database_url)
    try:
        identities = store.list()
    finally:
        store.close()
    for ident in identities:
        if as_json:
            click.echo(json.dumps(ident.__dict__))
        else:
            state = f"revoked {ident.revoked}" if ident.revoked else "active"
            apps = ",".join(ident.apps) or "-"
            click.echo(f"{ident.name}\tapps={apps}\t{state}\tcreated {ident.created}")
    if not identities and not as_json:
        click.echo("no tokens: the gateway runs in personal mode (loopback only)")


@tokens.command("revoke")
@click.argument("name")
@_where
def revoke(name: str, data_dir: Path | None, database_url: str | None) -> None:
    """Revoke NAME's token; every gateway using the store refuses it from the next request on."""
    store = _open(data_dir, database_url)
    try:
        done = store.revoke(name)
    finally:
        store.close()
    if not done:
        click.echo(f"no active token named {name!r}; see `cogate tokens list`", err=True)
        sys.exit(1)
    click.echo(f"revoked {name}")
