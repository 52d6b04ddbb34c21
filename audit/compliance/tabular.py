"""Entry metadata as rows for other systems: JSON Lines and CSV exports (`audit export
--format`), the review page's CSV of its current filter, and the audit sink's lines.

Metadata only: never a body, a value or a value's tag.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, Any

from ..review import list_entries
from ..store import Filters, LedgerStore

COLUMNS = [
    "id",
    "time",
    "kind",
    "app",
    "identity",
    "route",
    "surface",
    "destination",
    "path",
    "model",
    "mode",
    "policy",
    "entities",
    "entity_total",
    "bytes",
    "status",
    "outcome",
]
PAGE = 5000


def items(store: LedgerStore, filters: Filters) -> Iterator[dict[str, Any]]:
    """Every entry the filters select (their limit is ignored), oldest first."""
    total = store.total(filters)
    # Pages from the end of the newest-first listing, each reversed: oldest first overall.
    end = total
    while end > 0:
        start = max(0, end - PAGE)
        page = replace(filters, limit=end - start, offset=total - end)
        yield from reversed(list_entries(store, page))
        end = start


def flat(item: dict[str, Any]) -> dict[str, Any]:
    entities = item.get("entities") or {}
    row = {name: item.get(name) for name in COLUMNS}
    row["entities"] = ";".join(f"{k}:{v}" for k, v in sorted(entities.items()))
    row["entity_total"] = sum(int(v) for v in entities.values())
    return row


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for item in rows:
        out.write(json.dumps(flat(item), ensure_ascii=False) + "\n")
        count += 1
    return count


def _cell(value: Any) -> Any:
    # A cell a spreadsheet would run as a formula is quoted (an app label is caller input).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def write_csv(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for item in rows:
        writer.writerow({k: _cell(v) for k, v in flat(item).items()})
        count += 1
    return count


def csv_text(store: LedgerStore, filters: Filters) -> str:
    buffer = io.StringIO()
    write_csv(items(store, filters), buffer)
    return buffer.getvalue()
