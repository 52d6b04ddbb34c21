"""Canonical JSON (RFC 8785) and algorithm-prefixed hashes shared by writer and verifier."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import rfc8785

from .merkle import leaf_hash

SHA256 = "sha256:"
_HEX64 = re.compile(r"[0-9a-f]{64}")
GENESIS = SHA256 + "0" * 64  # the `prev` of entry 1


def canonical(obj: Any) -> bytes:
    """`obj` in RFC 8785 form. Values whose RFC 8785 form is exactly what the standard
    library's compact, key-sorted JSON writes (ASCII keys, safe integers, plain-notation
    floats) take that C encoder; anything else goes through rfc8785 (a pure-Python encoder
    that cost about half of a ledger append)."""
    if _plain(obj):
        try:
            return json.dumps(
                obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            pass  # a lone surrogate: rfc8785 gives its own error
    return rfc8785.dumps(obj)


SAFE_INTEGER = 2**53 - 1  # beyond it RFC 8785 (as JavaScript) cannot represent integers


def _plain(obj: Any) -> bool:
    """True when json.dumps writes `obj` byte for byte as RFC 8785 does: keys are ASCII (so
    code-point order is UTF-16 order), integers are safe, floats are non-integral and in
    the range where both write plain decimal notation with the shortest round-trip digits,
    and strings escape alike (both escape only quote, backslash and control characters)."""
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, str) or node is None or isinstance(node, bool):
            continue
        if isinstance(node, int):
            if -SAFE_INTEGER <= node <= SAFE_INTEGER:
                continue
            return False
        if isinstance(node, float):
            if 1e-4 <= abs(node) < 1e16 and not node.is_integer():
                continue
            return False
        if isinstance(node, dict):
            if not all(type(key) is str and key.isascii() for key in node):
                return False
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
        else:
            return False
    return True


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
