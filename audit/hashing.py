"""Canonical JSON (RFC 8785) and algorithm-prefixed hashes shared by writer and verifier."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import rfc8785

from .merkle import leaf_hash

SHA256 = "sha256:"
_HEX64 = re.compile(r"[0-9a-f]{64}")
GENESIS = SHA256 + "0" * 64  # the `prev` of entry 1


def canonical(obj: Any) -> bytes:
    return rfc8785.dumps(obj)


def sha256_text(data: bytes) -> str:
    return SHA256 + hashlib.sha256(data).hexdigest()


def entry_hash(entry_bytes: bytes) -> str:
    """An entry's hash is its RFC 6962 leaf hash, so chain links and Merkle leaves agree."""
    return SHA256 + leaf_hash(entry_bytes).hex()


def parse_hash(text: str) -> bytes:
    """Strictly parse `sha256:<64 lowercase hex>`; anything else is an unknown algorithm."""
    if not isinstance(text, str) or not text.startswith(SHA256):
        raise ValueError(f"not a sha256: hash: {str(text)[:80]!r}")
    digest = text[len(SHA256) :]
    if not _HEX64.fullmatch(digest):
        raise ValueError(f"malformed sha256 digest: {digest[:80]!r}")
    return bytes.fromhex(digest)


def format_hash(digest: bytes) -> str:
    return SHA256 + digest.hex()
