"""Which signed blocks (Messages `thinking` signatures, `redacted_thinking` data) cogate
relayed to which caller.

A signed block in a later request is relayed byte for byte only when cogate itself gave
that block to the same caller (identity and app) before: a block from a session begun
without cogate may hold raw values in its thinking text, and a genuine signature says
nothing about that. What is kept is a keyed hash (HMAC-SHA256 under `keys/signed-blocks.key`
of the data dir) of caller and signature, never the signature, in a bounded least-recently-
used store in this process's memory: a block relayed by another replica, or before a
restart, is unknown here and is scanned like text.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

from cogate.core.exchange import Exchange
from cogate.core.private_files import create_once, private_dir

KEY_FILE = "signed-blocks.key"
# ~100 bytes an entry: a few MB at most, and far more blocks than one conversation holds.
DEFAULT_CAPACITY = 50_000


def caller_of(ex: Exchange) -> str:
    """Whom a block was relayed to: the caller's identity and the app its routes saw."""
    return f"{ex.identity}\x00{ex.routed_app or ''}"


class SignedBlocks:
    def __init__(self, key: bytes, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("the signed-block store needs a capacity of at least 1")
        self._key = key
        self._capacity = capacity
        self._tags: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()  # answers are read in worker threads too

    @classmethod
    def in_data_dir(cls, data_dir: Path, capacity: int = DEFAULT_CAPACITY) -> SignedBlocks:
        """The store keyed by the installation's key (created once, owner-only)."""
        keys = private_dir(Path(data_dir) / "keys")
        return cls(create_once(keys / KEY_FILE, secrets.token_bytes(32)), capacity)

    def _tag(self, caller: str, signature: str) -> bytes:
        message = f"{len(caller)}:{caller}\x00{signature}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def remember(self, caller: str, signature: str) -> None:
        """`signature` was relayed to `caller` in an answer."""
        if not signature:
            return
        tag = self._tag(caller, signature)
        with self._lock:
            self._tags[tag] = None
            self._tags.move_to_end(tag)
            while len(self._tags) > self._capacity:
                self._tags.popitem(last=False)

    def knows(self, caller: str, signature: str) -> bool:
        """Whether cogate relayed `signature` to `caller` (and has not forgotten it since)."""
        if not signature:
            return False
        tag = self._tag(caller, signature)
        with self._lock:
            if tag not in self._tags:
                return False
            self._tags.move_to_end(tag)
            return True
