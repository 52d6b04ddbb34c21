"""Read-side operations shared by the CLI and the review page: list, show, status, verify,
export and prune over a data dir."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import checkpoints as cps
from . import state as trusted_state
from .backends import open_store
from .export import read_export, write_export
from .keys import KeyStore, key_id
from .paths import LedgerPaths
from .store import Filters, LedgerStore, Row
from .verify import Report, verify


def parse_time(text: str | None) -> str | None:
    """A user's date or datetime as the ledger's UTC time string (naive means UTC)."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not an ISO date or time: {text!r} (try 2026-11-05 or 2026-11-05T14:00)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def prune_cutoff(before: str | None, retention_days: float | None) -> str:
    """The ledger time before which `audit prune` drops bodies: a date, or days ago."""
    if (before is None) == (retention_days is None):
        raise ValueError("give either --before DATE or --retention-days N")
    if retention_days is not None:
        if retention_days <= 0:
            raise ValueError("--retention-days must be more than 0")
        cutoff = datetime.now(UTC) - timedelta(days=retention_days)
        return cutoff.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    parsed = parse_time(before)
    assert parsed is not None
    return parsed


def summary(row: Row, completion: Row | None) -> dict[str, Any]:
    """One egress entry as the list shows it; `local` entries say that nothing left."""
    e = json.loads(row.entry)
    done = json.loads(completion.entry) if completion else None
    dest = e.get("destination", {})
    local = e.get("kind") == "local"
    refusal = e.get("refusal") if e.get("kind") == "refusal" else None
    if refusal is not None:
        return _refusal_summary(row, e, refusal)
    if e.get("kind") == "decision":
        return _decision_summary(row, e)
    return {
        "id": str(row.seq),
        "seq": row.seq,
        "time": e.get("time"),
        "kind": e.get("kind"),
        "app": e.get("app"),
        "identity": e.get("identity"),
        "route": e.get("route"),
        "surface": e.get("surface"),
        "destination": "local (nothing left the device)" if local else dest.get("host"),
        "host": dest.get("host"),
        "path": dest.get("path"),
        "model": e.get("model"),
        "mode": e.get("mode"),
        "policy": e.get("policy", {}).get("id"),
        "entities": e.get("entities", {}),
        "bytes": 0 if local else e.get("body", {}).get("size", 0),
        "status": done.get("status") if done else None,
        "outcome": (
            done.get("outcome") if done else ("answered locally" if local else "outcome unknown")
        ),
    }


def timings_text(timings: dict[str, Any]) -> str:
    """Timings with their unit: every timing the gateway records is in milliseconds since
    the request arrived (`upstream_ms`: how long the upstream took)."""
    parts = []
    for name, value in timings.items():
        label = name[: -len("_ms")] if name.endswith("_ms") else name
        parts.append(f"{label}={value} ms")
    return ", ".join(parts)


def _decision_summary(row: Row, e: dict[str, Any]) -> dict[str, Any]:
    """A reviewer's decision as the list shows it (the value is not in the ledger)."""
    what = f"{e.get('decision')} on entry {e.get('entry')} ({e.get('type')})"
    return {
        "id": str(row.seq),
        "seq": row.seq,
        "time": e.get("time"),
        "kind": "decision",
        "app": None,
        "identity": None,
        "route": None,
        "surface": None,
        "destination": what,
        "host": None,
        "path": None,
        "model": None,
        "mode": None,
        "policy": None,
        "entities": {},
        "bytes": 0,
        "status": None,
        "outcome": f"proposal {e.get('proposal')}",
    }


def _refusal_summary(row: Row, e: dict[str, Any], refusal: dict[str, Any]) -> dict[str, Any]:
    """A refused request as the list shows it: nothing left, and why (the error code)."""
    dest = e.get("destination", {})
    return {
        "id": str(row.seq),
        "seq": row.seq,
        "time": e.get("time"),
        "kind": "refusal",
        "app": e.get("app"),
        "identity": e.get("identity"),
        "route": e.get("route"),
        "surface": e.get("surface"),
        "destination": "refused (nothing left the device)",
        "host": dest.get("host"),
        "path": dest.get("path"),
        "model": e.get("model"),
        "mode": e.get("mode"),
        "policy": e.get("policy", {}).get("id"),
        "entities": e.get("entities", {}),
        "bytes": 0,
        "status": refusal.get("status"),
        "outcome": f"refused ({refusal.get('code')})",
    }


def list_entries(store: LedgerStore, filters: Filters) -> list[dict[str, Any]]:
    rows = store.query(filters)
    done = store.completions([r.seq for r in rows])
    return [summary(r, done.get(r.seq)) for r in rows]


def show_entry(store: LedgerStore, seq: int) -> dict[str, Any]:
    row = store.get(seq)
    if row is None:
        raise KeyError(f"no ledger entry {seq}; `cogate audit list` shows the ids")
    entry = json.loads(row.entry)
    done = store.completion_for(seq) if entry.get("kind") in ("egress", "local") else None
    body_text: str | None = None
    body_hex: str | None = None
    if row.body is not None:
        try:
            body_text = row.body.decode("utf-8")
        except UnicodeDecodeError:
            body_hex = row.body.hex()
    out: dict[str, Any] = {
        "id": str(seq),
        "hash": row.hash,
        "entry": entry,
        "body": body_text,
        "body_hex": body_hex,
        "body_state": _body_state(entry, row),
        "completion": json.loads(done.entry) if done else None,
    }
    if entry.get("kind") in ("egress", "local", "refusal"):
        out["summary"] = summary(row, done)
    return out


def _body_state(entry: dict[str, Any], row: Row) -> str:
    if entry.get("kind") in ("local", "refusal"):
        return "nothing left the device"
    body = entry.get("body", {})
    if row.body is not None:
        return "stored"
    if not body.get("size"):
        return "empty"
    return "pruned (hash kept)" if body.get("stored") else "hash only (policy)"


def checkpoint_sources(store: LedgerStore, paths: LedgerPaths) -> list[tuple[str, list[str]]]:
    try:
        file_lines = cps.read_lines(paths.checkpoint_file)
    except (ValueError, UnicodeDecodeError) as exc:
        file_lines = [f"unreadable: {exc}"]
    return [("database", store.checkpoints()), (paths.checkpoint_file.name, file_lines)]


def verify_data_dir(
    data_dir: Path,
    state_path: Path | None = None,
    *,
    update_state: bool = True,
    database_url: str | None = None,
) -> Report:
    paths = LedgerPaths(data_dir)
    report = Report()
    try:
        store = open_store(data_dir, database_url)
    except (FileNotFoundError, ConnectionError) as exc:
        report.cannot = str(exc)
        return report
    try:
        public = KeyStore(paths.keys_dir).public_key()
    except FileNotFoundError as exc:
        report.cannot = str(exc)
        return report
    state_file = state_path or paths.default_state
    try:
        trusted = trusted_state.load(state_file)
        # Checkpoints first, rows after: a gateway appending meanwhile only adds rows.
        sources = checkpoint_sources(store, paths)
        report = verify(store.scan(), sources, public, store.meta("ledger_id"), trusted)
    except ValueError as exc:
        report.cannot = str(exc)
        return report
    finally:
        store.close()
    if update_state and report.status == "ok" and report.latest is not None:
        cp = report.latest
        trusted_state.save(
            state_file,
            trusted_state.TrustedState(cp.ledger, key_id(public), cp.size, cp.root, cp.time),
        )
        report.notes.append(f"trusted state updated to size {cp.size} in {state_file}")
    return report


def verify_export(directory: Path, state_path: Path | None = None) -> Report:
    report = Report()
    try:
        data = read_export(directory)
    except FileNotFoundError as exc:
        report.cannot = str(exc)
        return report
    except ValueError as exc:
        report.add(None, f"the export is altered or malformed: {exc}")
        return report
    trusted = trusted_state.load(state_path) if state_path else None
    return verify(
        data.rows, [("export", data.checkpoint_lines)], data.public_text, data.ledger, trusted
    )


def export(
    data_dir: Path, out: Path, ledger_factory, database_url: str | None = None
) -> dict[str, Any]:
    """Sign a checkpoint covering everything (so the export is whole), then write it out."""
    ledger = ledger_factory()
    try:
        ledger.checkpoint()
    finally:
        ledger.close()
    paths = LedgerPaths(data_dir)
    store = open_store(data_dir, database_url)
    try:
        lines = [line for _, src in checkpoint_sources(store, paths) for line in src]
        lines = [line for line in lines if not line.startswith("unreadable:")]
        return write_export(store, lines, KeyStore(paths.keys_dir).public_key(), out)
    finally:
        store.close()


def status(data_dir: Path, database_url: str | None = None) -> dict[str, Any]:
    paths = LedgerPaths(data_dir)
    store = open_store(data_dir, database_url)
    try:
        last = store.last_checkpoint()
        cp = cps.parse(last) if last else None
        size = store.count()
        return {
            "data_dir": str(data_dir),
            "database": store.where,
            "checkpoint_file": str(paths.checkpoint_file),
            "public_key": str(KeyStore(paths.keys_dir).public_path),
            "ledger": store.meta("ledger_id"),
            "entries": size,
            "egress": store.total(Filters(kinds=("egress",))),
            "local": store.total(Filters(kinds=("local",))),
            "refusal": store.total(Filters(kinds=("refusal",))),
            "last_checkpoint": {"size": cp.size, "root": cp.root, "time": cp.time} if cp else None,
            "unsigned_tail": size - (cp.size if cp else 0),
        }
    finally:
        store.close()


PERIODS = ("day", "week", "month")


def bucket(time: str, period: str) -> str:
    """The period an entry falls in: its day, the Monday of its week, or its month."""
    if period == "month":
        return time[:7]
    if period == "week":
        day = datetime.strptime(time[:10], "%Y-%m-%d")
        return (day - timedelta(days=day.weekday())).strftime("%Y-%m-%d")
    return time[:10]


def handling(kind: str, mode: str, entities: dict[str, int]) -> str:
    """What happened to a request, for the page's chart: blocked, kept local, ..."""
    if kind == "refusal":
        return "blocked"
    if kind == "local":
        return "kept local"
    if mode in ("sketch", "logits"):
        return "private context kept local"
    return "pseudonymized" if entities else "no personal data found"


def chart_data(store: LedgerStore, filters: Filters, period: str = "day") -> dict[str, Any]:
    """Counts per period: requests by destination, by app and by handling; entities by type."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    series: dict[str, dict[str, Counter]] = {
        name: defaultdict(Counter)
        for name in ("by_destination", "by_entity", "by_app", "by_handling")
    }
    for day, kind, app, host, mode, ents, n in store.chart_rows(filters):
        at = bucket(day or "", period)
        entities = json.loads(ents) if ents else {}
        where = "local" if kind == "local" else ("refused" if kind == "refusal" else host)
        series["by_destination"][at][where or "?"] += n
        series["by_app"][at][app or "?"] += n
        series["by_handling"][at][handling(kind, mode, entities)] += n
        for etype, count in entities.items():
            series["by_entity"][at][etype] += count * n
    days = sorted(set().union(*(s.keys() for s in series.values())))
    out: dict[str, Any] = {"period": period, "days": days}
    for name, data in series.items():
        out[name] = {d: dict(data[d]) for d in days if d in data}
    return out


def facets(store: LedgerStore) -> dict[str, list[str]]:
    """Distinct values for the review page's filter menus."""
    return store.facets()
