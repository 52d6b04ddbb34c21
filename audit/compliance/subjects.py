"""Data-subject search (GDPR art. 15): which entries a value was found in, and what was done
to it, without reading a body or printing any other value.

Each egress, local and refusal entry keeps a keyed HMAC tag of every value detected,
normalised as `entries.normalise` says; the search tags the value asked for with the same
key and looks for that tag. The value itself is never stored, logged or printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..entries import value_tags
from ..keys import KeyStore
from ..store import LedgerStore


def hmac_key(keys_dir: Path) -> bytes:
    """The ledger's tagging key; never created here (a search must not mint a new key)."""
    store = KeyStore(keys_dir)
    if not store.hmac_path.exists():
        raise FileNotFoundError(
            f"no ledger tagging key in {keys_dir}; pass the --data-dir the gateway uses "
            "(its keys/ folder holds audit-hmac.key)"
        )
    return store.hmac_key()


def find(store: LedgerStore, key: bytes, value: str, etype: str | None = None) -> list[dict]:
    """The entries where `value` was found (optionally as type `etype`), oldest first."""
    if not value.strip():
        raise ValueError("--value is empty; give the name, address or number to look for")
    wanted = value_tags(key, value)
    found = []
    for row in store.containing(sorted(wanted)):
        entry = json.loads(row.entry)
        hits = [
            t
            for t in entry.get("tags", [])
            if t.get("tag") in wanted and (etype is None or t.get("type") == etype)
        ]
        if hits:
            found.append(_match(row.seq, entry, hits))
    return found


def _match(seq: int, entry: dict[str, Any], hits: list[dict[str, str]]) -> dict[str, Any]:
    kind = entry.get("kind")
    dest = entry.get("destination", {})
    where = {"local": "local (nothing left)", "refusal": "refused (nothing left)"}
    return {
        "id": str(seq),
        "time": entry.get("time"),
        "kind": kind,
        "app": entry.get("app"),
        "identity": entry.get("identity"),
        "route": entry.get("route"),
        "destination": where.get(str(kind), dest.get("host")),
        "mode": entry.get("mode"),
        "types": sorted({t["type"] for t in hits}),
        # Entries written before actions were recorded say only that the value was removed.
        "done": sorted({t.get("action", "removed") for t in hits}),
    }
