"""A reviewer's "not personal data" decision on a finding: an `allow_list` proposal written as
a policy file for review (`cogate policy check` reads it), and a `decision` entry in the
ledger that names the entry, the type and the value's tag (never the value).

The reviewer types the value as it appeared in the request (the ledger never held it); it
must match one of the entry's tags of that type, so a decision is tied to what was found.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from ..entries import value_tags
from ..keys import private_dir, write_private
from ..store import LedgerStore


class Appender(Protocol):
    def append(self, fields: dict[str, Any], body: bytes | None = None) -> int: ...

    def close(self) -> None: ...


def proposal_text(value: str, etype: str, seq: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = (
        f"# cogate policy proposal ({stamp}): a reviewer marked a {etype} found in ledger\n"
        f"# entry {seq} as not personal data. Check it with `cogate policy check FILE`, then\n"
        "# merge the allow_list into your policy file.\n"
    )
    return head + yaml.safe_dump({"allow_list": [value]}, allow_unicode=True, sort_keys=False)


def not_personal_data(
    store: LedgerStore,
    open_writer: Callable[[], Appender],
    key: bytes,
    proposals: Path,
    seq: int,
    etype: str,
    value: str,
) -> dict[str, Any]:
    row = store.get(seq)
    if row is None:
        raise KeyError(f"no ledger entry {seq}")
    entry = json.loads(row.entry)
    wanted = value_tags(key, value)
    matched = [
        t["tag"] for t in entry.get("tags", []) if t.get("type") == etype and t.get("tag") in wanted
    ]
    if not matched:
        raise ValueError(
            f"that value was not found as {etype} in entry {seq}; type it exactly as it "
            "appeared in the request"
        )
    private_dir(proposals)
    path = proposals / f"allow-list-entry-{seq}-{etype.lower()}.yaml"
    write_private(path, proposal_text(value, etype, seq).encode())
    writer = open_writer()
    try:
        decision = writer.append(
            {
                "v": 1,
                "kind": "decision",
                "decision": "not_personal_data",
                "entry": seq,
                "type": etype,
                "tag": matched[0],
                "proposal": path.name,
            }
        )
    finally:
        writer.close()
    return {"decision_entry": str(decision), "proposal": str(path)}
