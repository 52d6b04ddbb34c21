"""`cogate audit`: review and verify the ledger (list, show, verify, export, prune, path,
status, serve). Library errors become messages and exit codes here, nowhere else."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import review
from ..backends import open_store, open_writer
from ..compliance import tabular
from ..paths import LedgerPaths
from ..store import Filters
from .common import data_dir_option, database_url_option, edge, resolve_dir

LISTED_KINDS = ("egress", "local", "refusal")
# Reviewers' decisions are listed only when asked for (`--kind decision`).
KIND_CHOICES = (*LISTED_KINDS, "decision")


@click.group()
def audit() -> None:
    """Review and verify the audit ledger: what left this device, to whom, under which policy."""


@audit.command("list")
@data_dir_option
@database_url_option
@click.option("--since", help="Only entries at or after this UTC date/time (ISO 8601).")
@click.option("--until", help="Only entries before this UTC date/time (ISO 8601).")
@click.option("--app", help="Only this app (x-cogate-app).")
@click.option("--destination", help="Only this destination host ('local': answered on device).")
@click.option("--mode", help="Only this mode (redact, sketch, logits, local, passthrough, ...).")
@click.option("--entity", help="Only entries that removed this entity type (e.g. PERSON).")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KIND_CHOICES),
    help="Only this kind: egress (bytes left), local (answered on device), refusal "
    "(refused by the policy), decision (a reviewer's). Repeatable; default the first three.",
)
@click.option("--identity", help="Only requests from this identity (a token's name).")
@click.option("--route", help="Only requests under this policy route ('-': the base policy).")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--offset", type=int, default=0)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one entry per line.")
@edge
def list_cmd(data_dir, database_url, since, until, app, destination, mode, entity, **rest):
    """List egress, local and refusal entries, newest first."""
    as_json = rest.pop("as_json")
    filters = Filters(
        since=review.parse_time(since),
        until=review.parse_time(until),
        app=app,
        host=destination,
        mode=mode,
        entity=entity,
        identity=rest["identity"],
        route=rest["route"],
        kinds=tuple(rest["kinds"]) or LISTED_KINDS,
        limit=rest["limit"],
        offset=rest["offset"],
    )
    store = open_store(resolve_dir(data_dir), database_url)
    try:
        items = review.list_entries(store, filters)
    finally:
        store.close()
    if as_json:
        for item in items:
            click.echo(json.dumps(item, ensure_ascii=False))
        return
    if not items:
        click.echo("no entries match")
        return
    click.echo(
        f"{'ID':>6}  {'TIME (UTC)':19}  {'APP':12} {'DESTINATION':28} {'MODE':11} "
        f"{'BYTES':>7}  {'ENTITIES':24} OUTCOME"
    )
    for it in items:
        ents = ",".join(f"{k}:{v}" for k, v in it["entities"].items()) or "-"
        click.echo(
            f"{it['id']:>6}  {(it['time'] or '')[:19]:19}  {str(it['app'])[:12]:12} "
            f"{str(it['destination'])[:28]:28} {str(it['mode'])[:11]:11} {it['bytes']:>7}  "
            f"{ents[:24]:24} {it['outcome']}"
        )


@audit.command()
@click.argument("entry_id")
@data_dir_option
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="The entry, its completion and body as JSON.")
@click.option("--raw", is_flag=True, help="Write only the body that left, byte for byte.")
@edge
def show(entry_id, data_dir, database_url, as_json, raw):
    """Show one entry: what left byte for byte, the entity summary, policy and timings."""
    try:
        seq = int(entry_id)
    except ValueError:
        raise ValueError(f"an entry id is a number such as 42, got {entry_id!r}") from None
    store = open_store(resolve_dir(data_dir), database_url)
    try:
        item = review.show_entry(store, seq)
        row = store.get(seq)
        raw_body = row.body if row is not None else None
    finally:
        store.close()
    if raw:
        sys.stdout.buffer.write(raw_body or b"")
        return
    if as_json:
        click.echo(json.dumps(item, ensure_ascii=False, indent=2))
        return
    e = item["entry"]
    click.echo(f"entry {item['id']}  ({e.get('kind')})  {e.get('time')}")
    click.echo(f"hash        {item['hash']}")
    if e.get("kind") in ("egress", "local"):
        s = item["summary"]
        dest = e["destination"]
        where = (
            s["destination"]
            if e["kind"] == "local"
            else (f"{dest['method']} {dest['host']}{dest['path']}")
        )
        click.echo(f"app         {e.get('app')}")
        click.echo(f"destination {where}")
        click.echo(f"model       {e.get('model')}    mode {e.get('mode')}")
        click.echo(f"policy      {e['policy']['id']}  {e['policy']['hash']}")
        ents = ", ".join(f"{k} x{v}" for k, v in e.get("entities", {}).items()) or "none"
        click.echo(f"removed     {ents}")
        if e.get("tags"):
            click.echo(f"tags        {len(e['tags'])} keyed value tags (HMAC-SHA256)")
        click.echo(f"outcome     {s['outcome']}  status {s['status']}")
        if item["completion"]:
            timings = item["completion"].get("timings") or {}
            click.echo("timings     " + review.timings_text(timings))
            if item["completion"].get("usage"):
                click.echo(f"usage       {json.dumps(item['completion']['usage'])}")
        click.echo(
            f"body        {e['body']['size']} bytes, {e['body']['hash']} ({item['body_state']})"
        )
        if item["body"] is not None:
            click.echo("----- what left -----")
            click.echo(item["body"])
        elif item["body_hex"] is not None:
            click.echo("----- what left (hex) -----")
            click.echo(item["body_hex"])
    else:
        click.echo(json.dumps(e, ensure_ascii=False, indent=2))


@audit.command()
@data_dir_option
@database_url_option
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Verify an export directory offline instead of the data dir.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trusted-state file (default <data-dir>/audit/verify-state.json; keep it "
    "elsewhere to catch a rolled-back data dir).",
)
@click.option("--no-update-state", is_flag=True, help="Do not record this result as trusted.")
@click.option("--json", "as_json", is_flag=True)
def verify(data_dir, database_url, export_dir, state, no_update_state, as_json):
    """Recompute every hash, link, Merkle root and signature. Exit 0 ok, 1 tampered,
    2 cannot verify."""
    try:
        if export_dir is not None:
            report = review.verify_export(export_dir, state)
        else:
            report = review.verify_data_dir(
                resolve_dir(data_dir),
                state,
                update_state=not no_update_state,
                database_url=database_url,
            )
    except ValueError as exc:
        click.echo(f"cannot verify: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report)
    sys.exit(report.exit_code)


def _print_report(report) -> None:
    if report.status == "cannot_verify":
        click.echo(f"CANNOT VERIFY: {report.cannot}")
        return
    if report.status == "ok":
        click.echo(
            f"OK: {report.size} entries, {report.checkpoints} signed checkpoints, "
            f"root {report.root}"
        )
    else:
        where = f" first bad entry: {report.first_bad}" if report.first_bad else ""
        click.echo(f"TAMPERED:{where}")
        for p in report.problems:
            click.echo(f"  - {p.message}")
    if report.unsigned_tail:
        click.echo(
            f"note: the last {report.unsigned_tail} entries are not yet covered by a "
            "signed checkpoint"
        )
    for note in report.notes:
        click.echo(f"note: {note}")


@audit.command("export")
@data_dir_option
@database_url_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Without --format: a directory that verifies offline (entries.jsonl, "
    "checkpoints.jsonl, public-key.txt). With --format: the file to write.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    help="Entry metadata (no bodies, no values) as JSON Lines or CSV, oldest first.",
)
@click.option("--since", help="With --format: entries at or after this UTC date/time.")
@click.option("--until", help="With --format: entries before this UTC date/time.")
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(KIND_CHOICES), help="With --format."
)
@edge
def export_cmd(data_dir, database_url, out, fmt, since, until, kinds):
    """Export entries, checkpoints and the public key (verify later with --export), or
    with --format the entries' metadata for a spreadsheet or a SIEM."""
    directory = resolve_dir(data_dir)
    if fmt is not None:
        filters = Filters(
            since=review.parse_time(since),
            until=review.parse_time(until),
            kinds=tuple(kinds) or LISTED_KINDS,
        )
        store = open_store(directory, database_url)
        try:
            with open(out, "w", encoding="utf-8", newline="") as fh:
                write = tabular.write_csv if fmt == "csv" else tabular.write_jsonl
                count = write(tabular.items(store, filters), fh)
        finally:
            store.close()
        click.echo(f"exported {count} entries ({fmt}, metadata only) to {out}")
        return
    if since or until or kinds:
        raise ValueError("--since, --until and --kind go with --format jsonl|csv")
    # Fail with a clear message if there is no ledger.
    open_store(directory, database_url).close()
    manifest = review.export(
        directory, out, lambda: open_writer(directory, database_url), database_url
    )
    click.echo(f"exported {manifest['entries']} entries to {out}")
    click.echo(f"verify with: cogate audit verify --export {out}")


@audit.command()
@data_dir_option
@database_url_option
@click.option("--before", help="Drop bodies of entries before this date (UTC).")
@click.option(
    "--retention-days",
    type=float,
    help="Drop bodies older than this many days (instead of --before).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be dropped; change nothing.")
@edge
def prune(data_dir, database_url, before, retention_days, dry_run):
    """Drop stored bodies older than a date; hashes stay so the ledger, its checkpoints and
    proofs still verify. The prune is recorded as an entry."""
    cutoff = review.prune_cutoff(before, retention_days)
    directory = resolve_dir(data_dir)
    store = open_store(directory, database_url)
    try:
        count, first, last, size = store.bodies_before(cutoff)
    finally:
        store.close()
    if dry_run:
        if not count:
            click.echo(f"dry run: no stored bodies before {cutoff}")
        else:
            click.echo(
                f"dry run: would drop {count} stored bodies ({size} bytes) of entries "
                f"{first}..{last}, all before {cutoff}; their hashes stay"
            )
        return
    ledger = open_writer(directory, database_url)
    try:
        dropped, seq = ledger.prune(cutoff)
    finally:
        ledger.close()
    if dropped:
        click.echo(f"dropped {dropped} stored bodies; recorded as entry {seq}")
    else:
        click.echo("no stored bodies older than that")


@audit.command()
@data_dir_option
@database_url_option
def path(data_dir, database_url):
    """Print where the ledger's files are."""
    paths = LedgerPaths(resolve_dir(data_dir))
    if database_url:
        from cogate.core.database import redact_url

        click.echo(f"database      {redact_url(database_url)}")
    else:
        click.echo(f"database      {paths.db}")
    click.echo(f"checkpoints   {paths.checkpoint_file}")
    click.echo(f"public key    {paths.keys_dir / 'audit-signing.pub'}")
    click.echo(f"verify state  {paths.default_state}")


@audit.command()
@data_dir_option
@database_url_option
@click.option("--json", "as_json", is_flag=True)
@edge
def status(data_dir, database_url, as_json):
    """Entries, last signed checkpoint and unsigned tail."""
    info = review.status(resolve_dir(data_dir), database_url)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        click.echo(f"{key.replace('_', ' '):16} {value}")


@audit.command()
@data_dir_option
@database_url_option
@click.option("--port", type=int, default=8788, show_default=True, help="0 picks a free port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@edge
def serve(data_dir, database_url, port, host):
    """Serve the review page on loopback; open the printed URL (it carries the token)."""
    from ..web import run

    run(resolve_dir(data_dir), host=host, port=port, database_url=database_url)
