"""Export a ledger to a directory that verifies offline, and read such a directory back.

Layout: `entries.jsonl` (one canonical JSON line per entry, with its hash and stored body),
`checkpoints.jsonl`, `public-key.txt` and `manifest.json`. Every byte of every file is
checked on verification, so no altered export passes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import checkpoints as cps
from .hashing import canonical
from .keys import private_dir, write_private
from .store import LedgerStore, Row

FORMAT = "cogate-audit-export/1"
_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def export_line(row: Row) -> str:
    line: dict[str, Any] = {"seq": row.seq, "hash": row.hash, "entry": json.loads(row.entry)}
    if row.body is not None:
        try:
            line["body"] = row.body.decode("utf-8")
        except UnicodeDecodeError:
            line["body_hex"] = row.body.hex()
    return canonical(line).decode()


def write_export(
    store: LedgerStore, checkpoint_lines: list[str], public_text: str, out: Path
) -> dict[str, Any]:
    """Write the export; checkpoint lines are the union of the database's and the file's."""
    private_dir(out)
    count = 0
    tmp = out / "entries.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n", opener=_private_opener) as fh:
        for row in store.scan():
            fh.write(export_line(row) + "\n")
            count += 1
    tmp.replace(out / "entries.jsonl")
    unique = sorted(set(checkpoint_lines), key=lambda t: (cps.parse(t).size, t))
    write_private(out / "checkpoints.jsonl", "".join(t + "\n" for t in unique).encode())
    write_private(out / "public-key.txt", (public_text + "\n").encode())
    manifest = {"format": FORMAT, "ledger": store.meta("ledger_id"), "entries": count}
    write_private(out / "manifest.json", canonical(manifest) + b"\n")
    return manifest


def _private_opener(path: str, flags: int) -> int:
    import os

    return os.open(path, flags, 0o600)


@dataclass
class ExportData:
    ledger: str
    rows: list[Row]
    checkpoint_lines: list[str]
    public_text: str


class ExportError(ValueError):
    """The export is malformed: some file was altered or is missing."""


def _strict_lines(path: Path) -> list[str]:
    if not path.exists():
        raise FileNotFoundError(f"{path.name} is missing from the export")
    try:
        return cps.read_lines(path)
    except UnicodeDecodeError:
        raise ExportError(f"{path.name} is not UTF-8") from None


def read_export(directory: Path) -> ExportData:
    """Parse strictly: any non-canonical line or unknown field is an alteration."""
    manifest_lines = _strict_lines(directory / "manifest.json")
    if len(manifest_lines) != 1:
        raise ExportError("manifest.json must hold one line")
    manifest = _canonical_object(manifest_lines[0], "manifest.json")
    if set(manifest) != {"format", "ledger", "entries"} or manifest["format"] != FORMAT:
        raise ExportError(f"manifest.json is not a {FORMAT} manifest")
    key_lines = _strict_lines(directory / "public-key.txt")
    if len(key_lines) != 1:
        raise ExportError("public-key.txt must hold one line")
    rows = []
    for number, line in enumerate(_strict_lines(directory / "entries.jsonl"), 1):
        obj = _canonical_object(line, f"entries.jsonl line {number}")
        if not {"seq", "hash", "entry"} <= set(obj) <= {"seq", "hash", "entry", "body", "body_hex"}:
            raise ExportError(f"entries.jsonl line {number} has unexpected fields")
        body: bytes | None = None
        if "body" in obj:
            body = str(obj["body"]).encode("utf-8")
        elif "body_hex" in obj:
            if not isinstance(obj["body_hex"], str) or not _HEX.fullmatch(obj["body_hex"]):
                raise ExportError(f"entries.jsonl line {number}: body_hex is not lowercase hex")
            body = bytes.fromhex(obj["body_hex"])
        if not isinstance(obj["seq"], int) or not isinstance(obj["hash"], str):
            raise ExportError(f"entries.jsonl line {number}: seq or hash has the wrong type")
        rows.append(Row(obj["seq"], canonical(obj["entry"]).decode(), obj["hash"], body))
    if manifest["entries"] != len(rows):
        raise ExportError(
            f"manifest.json lists {manifest['entries']} entries but entries.jsonl has {len(rows)}"
        )
    return ExportData(
        ledger=manifest["ledger"],
        rows=rows,
        checkpoint_lines=_strict_lines(directory / "checkpoints.jsonl"),
        public_text=key_lines[0],
    )


def _canonical_object(line: str, where: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except ValueError:
        raise ExportError(f"{where} is not JSON") from None
    if not isinstance(obj, dict):
        raise ExportError(f"{where} is not a JSON object")
    if canonical(obj).decode() != line:
        raise ExportError(f"{where} is not in canonical JSON form (altered)")
    return obj
