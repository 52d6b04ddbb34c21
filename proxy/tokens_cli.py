"""`cogate tokens add|list|revoke`: the identities a shared gateway accepts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from cogate.audit.tokens import TokenError, open_tokens
from cogate.core.private_files import private_dir
from cogate.core.settings import Settings

DATA_DIR = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="The gateway's data dir."
)


def _data_dir(data_dir: Path | None) -> Path:
    return private_dir(data_dir if data_dir is not None else Settings().data_dir)


@click.group()
def tokens() -> None:
    """Identities of a shared gateway: with any token present, every request needs one."""


@tokens.command("add")
@click.argument("name")
@click.option("--app", "apps", multiple=True, help="An app whose policy routes this token may use.")
@DATA_DIR
def add(name: str, apps: tuple[str, ...], data_dir: Path | None) -> None:
    """Create identity NAME and print its token once, as the last line."""
    store = open_tokens(_data_dir(data_dir))
    try:
        token = store.add(name, apps)
    except TokenError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    finally:
        store.close()
    bound = ", ".join(sorted(set(apps))) or "none"
    click.echo(f"identity {name} (apps: {bound}); clients send this in x-cogate-token.")
    click.echo("It is shown only now; cogate keeps only its hash.")
    click.echo(token)


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per identity.")
@DATA_DIR
def list_(as_json: bool, data_dir: Path | None) -> None:
    """The identities, their apps and whether they are revoked (never the tokens)."""
    store = open_tokens(_data_dir(data_dir))
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
@DATA_DIR
def revoke(name: str, data_dir: Path | None) -> None:
    """Revoke NAME's token; a running gateway refuses it from the next request on."""
    store = open_tokens(_data_dir(data_dir))
    try:
        done = store.revoke(name)
    finally:
        store.close()
    if not done:
        click.echo(f"no active token named {name!r}; see `cogate tokens list`", err=True)
        sys.exit(1)
    click.echo(f"revoked {name}")
