"""`cogate audit prove|verify-proof|consistency`: proofs for a third party (docs/PROOFS.md);
`cogate audit find`: data-subject search.

`verify-proof` reads only the proof file (and an optional pinned public key): no data dir,
no database. Exit codes: 0 valid, 1 invalid, 2 malformed (or cannot read).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..backends import open_store, open_writer
from ..compliance import proofs, subjects
from ..keys import KeyStore
from ..paths import LedgerPaths
from .common import data_dir_option, database_url_option, edge, resolve_dir

out_option = click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The proof file to write (JSON).",
)


def _write(out: Path, doc: dict[str, Any]) -> None:
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


@click.command()
@click.argument("entry_id")
@out_option
@data_dir_option
@database_url_option
@edge
def prove(entry_id, out, data_dir, database_url):
    """Write an inclusion proof of one entry: its leaf hash, the audit path to the latest
    signed checkpoint, that checkpoint and the public key. Signs a checkpoint first when
    none covers the entry yet."""
    try:
        seq = int(entry_id)
    except ValueError:
        raise ValueError(f"an entry id is a number such as 42, got {entry_id!r}") from None
    directory = resolve_dir(data_dir)
    public = KeyStore(LedgerPaths(directory).keys_dir).public_key()
    store = open_store(directory, database_url)
    try:
        if store.get(seq) is None:
            raise KeyError(f"no ledger entry {seq}; `cogate audit list` shows the ids")
        signed = proofs.signed_checkpoints(store)
        if not signed or max(signed) < seq:
            writer = open_writer(directory, database_url)
            try:
                writer.checkpoint()
            finally:
                writer.close()
        doc = proofs.inclusion(store, seq, public)
    finally:
        store.close()
    _write(out, doc)
    click.echo(f"inclusion proof of entry {seq} at tree size {doc['tree_size']} in {out}")
    click.echo(f"check it anywhere with: cogate audit verify-proof {out}")


@click.command()
@click.argument("old_size", type=int)
@click.argument("new_size", type=int)
@out_option
@data_dir_option
@database_url_option
@edge
def consistency(old_size, new_size, out, data_dir, database_url):
    """Write a proof that the checkpoint signed at NEW_SIZE extends the one at OLD_SIZE
    (nothing before OLD_SIZE was changed or removed)."""
    directory = resolve_dir(data_dir)
    public = KeyStore(LedgerPaths(directory).keys_dir).public_key()
    store = open_store(directory, database_url)
    try:
        doc = proofs.consistency(store, old_size, new_size, public)
    finally:
        store.close()
    _write(out, doc)
    click.echo(f"consistency proof from size {old_size} to {new_size} in {out}")


@click.command("verify-proof")
@click.argument("proof_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    help="The ledger's public key (ed25519:<hex>, or a file holding it) to pin; without it "
    "the key inside the proof is used, so compare that with the one you were given.",
)
@click.option("--json", "as_json", is_flag=True)
def verify_proof(proof_file, public_key, as_json):
    """Check an inclusion or consistency proof offline, with no data dir. Exit 0 valid,
    1 invalid, 2 malformed."""
    pinned = public_key
    if pinned is not None and Path(pinned).is_file():
        pinned = Path(pinned).read_text().strip()
    try:
        doc = json.loads(proof_file.read_bytes())
        valid, what = proofs.check(doc, pinned)
    except (OSError, ValueError) as exc:  # proofs.Malformed is a ValueError
        _say(as_json, "malformed", f"{proof_file} is not a readable proof: {exc}")
        sys.exit(2)
    _say(as_json, "valid" if valid else "invalid", what)
    sys.exit(0 if valid else 1)


def _say(as_json: bool, status: str, message: str) -> None:
    if as_json:
        click.echo(json.dumps({"status": status, "message": message}))
    else:
        click.echo(f"{status.upper()}: {message}")


@click.command("find")
@click.option("--value", required=True, help="The value to look for (a name, e-mail, number).")
@click.option("--type", "etype", help="Only where it was found as this entity type (PERSON).")
@data_dir_option
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one entry per line.")
@edge
def find_cmd(value, etype, data_dir, database_url, as_json):
    """Data-subject search: the entries where a value was detected and what was done to it
    (pseudonymized, blocked, answered locally, ...). Matches the value as detected, case and
    spacing aside; prints no other value and no body."""
    directory = resolve_dir(data_dir)
    key = subjects.hmac_key(LedgerPaths(directory).keys_dir)
    store = open_store(directory, database_url)
    try:
        found = subjects.find(store, key, value, etype)
    finally:
        store.close()
    if as_json:
        for item in found:
            click.echo(json.dumps(item, ensure_ascii=False))
        return
    if not found:
        click.echo("not found in any entry")
        return
    click.echo(f"{'ID':>6}  {'TIME (UTC)':19}  {'APP':12} {'IDENTITY':12} {'DESTINATION':24} DONE")
    for it in found:
        click.echo(
            f"{it['id']:>6}  {(it['time'] or '')[:19]:19}  {str(it['app'])[:12]:12} "
            f"{str(it['identity'])[:12]:12} {str(it['destination'])[:24]:24} "
            f"{', '.join(it['done'])} ({', '.join(it['types'])})"
        )
    click.echo(f"{len(found)} entries")


COMMANDS = [prove, consistency, verify_proof, find_cmd]
