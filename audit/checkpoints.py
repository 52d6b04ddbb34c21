"""Signed checkpoints (tree size + Merkle root + time, Ed25519) and their append-only file.

A checkpoint is kept twice: in the database and as one line of `checkpoints.jsonl` outside
it, so rolling the database back or cutting its tail leaves evidence elsewhere.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .hashing import canonical, parse_hash
from .keys import key_id, verify_signature

SIGNED_FIELDS = ("ledger", "size", "root", "time", "key")


@dataclass(frozen=True)
class Checkpoint:
    ledger: str
    size: int
    root: str  # sha256:<hex>
    time: str
    key: str  # key id of the signing key
    sig: str  # hex Ed25519 signature over the canonical JSON of the other fields

    def body(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SIGNED_FIELDS}

    def text(self) -> str:
        return canonical({**self.body(), "sig": self.sig}).decode()


def sign(
    key: Ed25519PrivateKey, public_text: str, *, ledger: str, size: int, root: str, time: str
) -> Checkpoint:
    key_ref = key_id(public_text)
    body = {"ledger": ledger, "size": size, "root": root, "time": time, "key": key_ref}
    signature = key.sign(canonical(body)).hex()
    return Checkpoint(ledger, size, root, time, key_ref, signature)


def parse(text: str) -> Checkpoint:
    """Parse one checkpoint line strictly: exact fields, types and canonical form."""
    data = json.loads(text)
    if not isinstance(data, dict) or set(data) != {*SIGNED_FIELDS, "sig"}:
        raise ValueError(
            "a checkpoint has exactly the fields " + ", ".join((*SIGNED_FIELDS, "sig"))
        )
    if not isinstance(data["size"], int) or isinstance(data["size"], bool) or data["size"] < 0:
        raise ValueError("checkpoint size must be a non-negative integer")
    if not all(isinstance(data[k], str) for k in ("ledger", "root", "time", "key", "sig")):
        raise ValueError("checkpoint fields ledger, root, time, key and sig are strings")
    parse_hash(data["root"])
    if canonical(data).decode() != text:
        # Only the canonical spelling is accepted, so no two files mean the same checkpoint.
        raise ValueError("checkpoint is not in canonical JSON form")
    return Checkpoint(**data)


def signature_ok(cp: Checkpoint, public: Ed25519PublicKey, public_text: str) -> bool:
    return cp.key == key_id(public_text) and verify_signature(public, cp.sig, canonical(cp.body()))


def append_line(path: Path, text: str) -> None:
    """Append one line durably; O_APPEND keeps lines whole when processes write together."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (text + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_lines(path: Path) -> list[str]:
    """The file's lines; a final line without its newline is a torn write and is reported."""
    if not path.exists():
        return []
    data = path.read_bytes().decode("utf-8")
    lines = data.split("\n")
    if lines[-1] != "":
        raise ValueError(f"{path.name} does not end with a newline (torn or altered)")
    return lines[:-1]
