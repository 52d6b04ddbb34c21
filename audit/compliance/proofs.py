"""Proofs a third party checks with the public key alone (RFC 6962 / RFC 9162 style).

An inclusion proof shows that one entry is in the tree a signed checkpoint commits to; a
consistency proof that a later checkpoint's tree extends an earlier one's. Both are JSON
files described in docs/PROOFS.md; `check` verifies them with no data dir. Building reads
the leaf hashes (the entries' stored hashes) from the store.
"""

from __future__ import annotations

import json
from typing import Any

from .. import checkpoints as cps
from ..hashing import canonical, entry_hash, format_hash, parse_hash
from ..keys import parse_public_key
from ..merkle import consistency_proof, inclusion_proof, verify_consistency, verify_inclusion
from ..store import LedgerStore

INCLUSION = "cogate-inclusion-proof/1"
CONSISTENCY = "cogate-consistency-proof/1"
_INCLUSION_FIELDS = {
    "format",
    "entry",
    "leaf_index",
    "leaf_hash",
    "tree_size",
    "audit_path",
    "checkpoint",
    "public_key",
}
_CONSISTENCY_FIELDS = {"format", "old", "new", "proof", "public_key"}


class Malformed(ValueError):
    """The file is not a proof in a format this version reads (exit 2)."""


def _leaves(store: LedgerStore, size: int) -> list[bytes]:
    out: list[bytes] = []
    for row in store.scan():
        if row.seq > size:
            break
        out.append(parse_hash(row.hash))
    if len(out) != size:
        raise ValueError(f"the ledger holds {len(out)} entries, fewer than the {size} signed")
    return out


def signed_checkpoints(store: LedgerStore) -> dict[int, cps.Checkpoint]:
    return {cp.size: cp for cp in (cps.parse(text) for text in store.checkpoints())}


def inclusion(store: LedgerStore, seq: int, public_text: str) -> dict[str, Any]:
    """The proof that entry `seq` is in the tree of the latest signed checkpoint."""
    signed = signed_checkpoints(store)
    if not signed or max(signed) < seq:
        raise ValueError(f"no signed checkpoint covers entry {seq} yet")
    cp = signed[max(signed)]
    row = store.get(seq)
    if row is None:
        raise KeyError(f"no ledger entry {seq}; `cogate audit list` shows the ids")
    path = inclusion_proof(seq - 1, _leaves(store, cp.size))
    return {
        "format": INCLUSION,
        "entry": row.entry,
        "leaf_index": seq - 1,
        "leaf_hash": row.hash,
        "tree_size": cp.size,
        "audit_path": [format_hash(p) for p in path],
        "checkpoint": json.loads(cp.text()),
        "public_key": public_text,
    }


def consistency(store: LedgerStore, old: int, new: int, public_text: str) -> dict[str, Any]:
    """The proof that the checkpoint signed at size `new` extends the one at `old`."""
    signed = signed_checkpoints(store)
    for size in (old, new):
        if size not in signed:
            sizes = ", ".join(str(s) for s in sorted(signed)) or "none yet"
            raise ValueError(
                f"no signed checkpoint at size {size}; signed sizes: {sizes} "
                "(`cogate audit status` shows the last)"
            )
    if not 0 < old <= new:
        raise ValueError(f"OLD must be at least 1 and at most NEW, got {old} and {new}")
    path = consistency_proof(old, _leaves(store, new))
    return {
        "format": CONSISTENCY,
        "old": json.loads(signed[old].text()),
        "new": json.loads(signed[new].text()),
        "proof": [format_hash(p) for p in path],
        "public_key": public_text,
    }


# -- checking (offline) ---------------------------------------------------------------------


def check(doc: Any, pinned_key: str | None = None) -> tuple[bool, str]:
    """(valid, what was proven or why not); raises Malformed for a file that is no proof."""
    if not isinstance(doc, dict):
        raise Malformed("a proof is a JSON object")
    kind = doc.get("format")
    if kind == INCLUSION:
        _fields(doc, _INCLUSION_FIELDS)
        return _check_inclusion(doc, _key(doc, pinned_key))
    if kind == CONSISTENCY:
        _fields(doc, _CONSISTENCY_FIELDS)
        return _check_consistency(doc, _key(doc, pinned_key))
    raise Malformed(
        f"unknown proof format {str(kind)[:60]!r}; expected {INCLUSION} or {CONSISTENCY}"
    )


def _fields(doc: dict[str, Any], want: set[str]) -> None:
    if set(doc) != want:
        raise Malformed("a proof has exactly the fields " + ", ".join(sorted(want)))


def _key(doc: dict[str, Any], pinned: str | None) -> str:
    key = doc["public_key"]
    if not isinstance(key, str):
        raise Malformed("public_key is a string ed25519:<hex>")
    try:
        parse_public_key(key)
    except ValueError as exc:
        raise Malformed(str(exc)) from None
    if pinned is not None and pinned.strip() != key:
        return ""  # not the key the verifier trusts: invalid, not malformed
    return key


def _checkpoint(data: Any, public_text: str) -> tuple[cps.Checkpoint | None, str]:
    """The signed checkpoint of a proof, or None with the reason it does not hold."""
    if not isinstance(data, dict):
        raise Malformed("a checkpoint is a JSON object")
    try:
        cp = cps.parse(canonical(data).decode())
    except (ValueError, TypeError) as exc:
        raise Malformed(f"checkpoint: {exc}") from None
    if not public_text:
        return None, "the proof is signed with another key than the one pinned"
    if not cps.signature_ok(cp, parse_public_key(public_text), public_text):
        return None, f"the checkpoint at size {cp.size} does not carry a valid signature"
    return cp, ""


def _hashes(values: Any, name: str) -> list[bytes]:
    if not isinstance(values, list):
        raise Malformed(f"{name} is a list of sha256:<hex> hashes")
    try:
        return [parse_hash(v) for v in values]
    except ValueError as exc:
        raise Malformed(f"{name}: {exc}") from None


def _check_inclusion(doc: dict[str, Any], public_text: str) -> tuple[bool, str]:
    index, size, entry = doc["leaf_index"], doc["tree_size"], doc["entry"]
    if not (_count(index) and _count(size) and isinstance(entry, str)):
        raise Malformed("leaf_index and tree_size are integers; entry is a string")
    path = _hashes(doc["audit_path"], "audit_path")
    try:
        leaf = parse_hash(doc["leaf_hash"])
    except ValueError as exc:
        raise Malformed(f"leaf_hash: {exc}") from None
    cp, why = _checkpoint(doc["checkpoint"], public_text)
    if cp is None:
        return False, why
    if entry_hash(entry.encode()) != format_hash(leaf):
        return False, "the entry does not hash to the leaf hash"
    if cp.size != size:
        return False, f"the proof is for a tree of {size} entries, the checkpoint signs {cp.size}"
    if not verify_inclusion(index, size, leaf, path, parse_hash(cp.root)):
        return False, f"the audit path does not lead to the signed root at size {size}"
    return True, f"entry {index + 1} is in the ledger {cp.ledger} signed at size {size} ({cp.time})"


def _check_consistency(doc: dict[str, Any], public_text: str) -> tuple[bool, str]:
    proof = _hashes(doc["proof"], "proof")
    old, why_old = _checkpoint(doc["old"], public_text)
    new, why_new = _checkpoint(doc["new"], public_text)
    if old is None or new is None:
        return False, why_old or why_new
    if old.ledger != new.ledger:
        return False, "the two checkpoints are of different ledgers"
    if not verify_consistency(
        old.size, new.size, parse_hash(old.root), parse_hash(new.root), proof
    ):
        return False, f"the tree at size {new.size} does not extend the tree at size {old.size}"
    return True, f"the ledger {new.ledger} at size {new.size} extends its state at size {old.size}"


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
