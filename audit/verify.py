"""Recompute a ledger from its rows: every hash and link, the Merkle root at every signed
checkpoint, the signatures, and consistency with the last state the verifier trusted.

Works on any row source (the database or an export), so both are checked the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import checkpoints as cps
from .hashing import GENESIS, entry_hash, format_hash, parse_hash, sha256_text
from .keys import key_id, parse_public_key
from .merkle import Frontier
from .state import TrustedState
from .store import Row

OK, TAMPERED, CANNOT = "ok", "tampered", "cannot_verify"


@dataclass
class Problem:
    seq: int | None  # the first entry affected, when it can be located
    message: str


@dataclass
class Report:
    size: int = 0
    signed_size: int = 0
    root: str = ""
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    cannot: str | None = None
    latest: cps.Checkpoint | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.cannot:
            return CANNOT
        return TAMPERED if self.problems else OK

    @property
    def exit_code(self) -> int:
        return {OK: 0, TAMPERED: 1, CANNOT: 2}[self.status]

    @property
    def first_bad(self) -> int | None:
        located = [p.seq for p in self.problems if p.seq is not None]
        return min(located) if located else None

    @property
    def unsigned_tail(self) -> int:
        return max(0, self.size - self.signed_size)

    def add(self, seq: int | None, message: str) -> None:
        self.problems.append(Problem(seq, message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "size": self.size,
            "signed_size": self.signed_size,
            "unsigned_tail": self.unsigned_tail,
            "root": self.root,
            "checkpoints": self.checkpoints,
            "first_bad": self.first_bad,
            "problems": [{"seq": p.seq, "message": p.message} for p in self.problems],
            "cannot_verify": self.cannot,
            "notes": self.notes,
        }


def verify(
    rows: Iterable[Row],
    checkpoint_sources: list[tuple[str, list[str]]],
    public_text: str | None,
    ledger_id: str | None,
    trusted: TrustedState | None = None,
) -> Report:
    report = Report()
    if not public_text:
        report.cannot = "no public key to check checkpoint signatures against"
        return report
    try:
        public = parse_public_key(public_text)
    except ValueError as exc:
        report.cannot = f"the public key is unreadable: {exc}"
        return report

    signed = _load_checkpoints(report, checkpoint_sources, public, public_text, ledger_id)
    report.checkpoints = len(signed)
    want_sizes = set(signed)
    if trusted is not None:
        want_sizes.add(trusted.size)
    roots_at = _scan(report, rows, signed, want_sizes)

    n = report.size
    for size in sorted(s for s in signed if s > n):
        report.add(
            n + 1,
            f"a checkpoint signed at size {size} but the ledger ends at {n}: entries "
            f"{n + 1}..{size} were removed (tail cut off or an older copy restored)",
        )
        break
    report.signed_size = max((s for s in signed if s <= n), default=0)
    if signed:
        report.latest = signed[max(signed)]
    if trusted is not None:
        _check_trusted(report, trusted, ledger_id, public_text, roots_at)
    return report


def _load_checkpoints(report, sources, public, public_text, ledger_id) -> dict[int, cps.Checkpoint]:
    signed: dict[int, cps.Checkpoint] = {}
    for origin, lines in sources:
        for number, line in enumerate(lines, 1):
            try:
                cp = cps.parse(line)
            except (ValueError, TypeError) as exc:
                report.add(None, f"{origin}: checkpoint {number} is unreadable ({exc})")
                continue
            if not cps.signature_ok(cp, public, public_text):
                report.add(None, f"{origin}: checkpoint at size {cp.size} has a bad signature")
                continue
            if ledger_id is not None and cp.ledger != ledger_id:
                report.add(None, f"{origin}: checkpoint at size {cp.size} is for another ledger")
                continue
            seen = signed.get(cp.size)
            if seen is not None and seen.root != cp.root:
                report.add(None, f"two signed checkpoints at size {cp.size} disagree on the root")
            signed.setdefault(cp.size, cp)
    return signed


def _scan(report: Report, rows: Iterable[Row], signed, want_sizes: set[int]) -> dict[int, str]:
    frontier = Frontier()
    roots_at: dict[int, str] = {}
    last_good_cp = 0
    expected, prev, prev_ok = 1, GENESIS, True
    missing_bodies: list[int] = []
    pruned_through = 0
    for row in rows:
        seq = row.seq
        if seq != expected:
            if seq > expected:
                report.add(expected, f"entries {expected}..{seq - 1} are missing (rows deleted)")
            else:
                report.add(seq, f"entry {seq} appears twice or out of order")
            expected = seq
        entry, digest, ok = _read_entry(report, row, prev, prev_ok)
        recorded = entry.get("body")
        body = recorded if isinstance(recorded, dict) else {}
        if row.body is not None and sha256_text(row.body) != body.get(
            "stored_hash", body.get("hash")
        ):
            report.add(seq, f"the stored body of entry {seq} differs from the hash it recorded")
        elif row.body is None and body.get("stored"):
            missing_bodies.append(seq)
        if entry.get("kind") == "prune" and isinstance(entry.get("through"), int):
            pruned_through = max(pruned_through, entry["through"])

        frontier.append(parse_hash(digest))
        prev, prev_ok, expected = digest, ok, seq + 1
        size = frontier.size
        if size in want_sizes:
            roots_at[size] = format_hash(frontier.root())
            last_good_cp = _check_root(report, signed.get(size), size, roots_at[size], last_good_cp)
    report.size = frontier.size
    report.root = format_hash(frontier.root())
    for seq in missing_bodies:
        if seq > pruned_through:
            report.add(seq, f"the body of entry {seq} was deleted without a recorded prune")
    return roots_at


def _read_entry(report: Report, row: Row, prev: str, prev_ok: bool) -> tuple[dict, str, bool]:
    """(the entry a row holds, its hash, whether it is intact); problems go to `report`."""
    seq = row.seq
    data = row.entry.encode()
    digest = entry_hash(data)
    ok = digest == row.hash
    if not ok:
        report.add(seq, f"entry {seq} does not match its stored hash (its content was edited)")
    try:
        entry = json.loads(data)
        if not isinstance(entry, dict):
            raise ValueError("not an object")
    except ValueError:
        report.add(seq, f"entry {seq} is not a JSON object")
        entry = {}
    if entry.get("seq") != seq:
        ok = False
        report.add(seq, f"row {seq} holds entry {entry.get('seq')} (rows moved or swapped)")
    if entry.get("prev") != prev and prev_ok and ok and seq > 1:
        report.add(
            seq - 1,
            f"entry {seq - 1} is not the entry that entry {seq} was chained to "
            "(it was changed and re-hashed, or replaced)",
        )
    return entry, digest, ok


def _check_root(report: Report, cp, size: int, root: str, last_good_cp: int) -> int:
    """Compare the Merkle root at `size` with the checkpoint signed there (if any); the
    size of the last checkpoint that matched."""
    if cp is None:
        return last_good_cp
    if cp.root == root:
        return size
    # An entry already located in this span explains the mismatch.
    located = any(p.seq is not None and p.seq <= size for p in report.problems)
    report.add(
        None if located else last_good_cp + 1,
        f"entries {last_good_cp + 1}..{size} were rewritten: their Merkle root "
        f"does not match the checkpoint signed at size {size}",
    )
    return last_good_cp


def _check_trusted(report, trusted: TrustedState, ledger_id, public_text, roots_at) -> None:
    if ledger_id is not None and trusted.ledger != ledger_id:
        report.add(None, "this is not the ledger verified before (the ledger id changed)")
        return
    if trusted.key != key_id(public_text):
        report.add(None, "the signing key changed since the last trusted verification")
    if trusted.size > report.size:
        report.add(
            report.size + 1,
            f"the ledger was verified at size {trusted.size} before but now ends at "
            f"{report.size} (rolled back or truncated)",
        )
    elif trusted.size and roots_at.get(trusted.size) != trusted.root:
        # Not located: the signed checkpoints above narrow it down when they can.
        report.add(
            None,
            f"the first {trusted.size} entries are not the ones verified before "
            "(history rewritten since the last trusted checkpoint)",
        )
