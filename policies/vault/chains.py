"""Which pseudonym vault continues state the upstream keeps by id (stored responses,
conversations): after an answer, its ids map to the vault of the request that produced it,
so a later request naming them is pseudonymised and restored with the same vault.

Entries are per caller identity, bounded in number and expire when unused. In memory a
restart forgets them (a request continuing an id this process never saw gets a vault of its
own that numbers its placeholders above `UNKNOWN_FLOOR`, see `Vault.reserve`); with a
database they live beside the vaults (pg_chains.py) and survive restarts.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Protocol

# A vault continuing a history this process does not know numbers its placeholders from
# here, so they cannot collide with the placeholders the upstream stored before.
UNKNOWN_FLOOR = 1000


class StoredIdsBackend(Protocol):
    """Where the chains live: in memory (`StoredIds`) or PostgreSQL (pg_chains.py)."""

    def remember(self, identity: str, object_id: str, vault_key: str) -> None: ...

    def first_known(self, identity: str, ids: list[str]) -> str | None: ...


class StoredIds:
    """(identity, stored id) → vault key, bounded and expiring."""

    def __init__(self, max_entries: int = 100_000, ttl: float = 24 * 3600.0) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._keys: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, identity: str, object_id: str, vault_key: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._keys[(identity, object_id)] = (vault_key, now)
            self._keys.move_to_end((identity, object_id))
            while self._keys:
                oldest, (_, used) = next(iter(self._keys.items()))
                if len(self._keys) > self.max_entries or now - used > self.ttl:
                    del self._keys[oldest]
                else:
                    break

    def lookup(self, identity: str, object_id: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            found = self._keys.get((identity, object_id))
            if found is None or now - found[1] > self.ttl:
                return None
            self._keys[(identity, object_id)] = (found[0], now)
            self._keys.move_to_end((identity, object_id))
            return found[0]

    def first_known(self, identity: str, ids: list[str]) -> str | None:
        """The vault key of the most specific id this identity's requests stored."""
        for object_id in ids:
            known = self.lookup(identity, object_id)
            if known is not None:
                return known
        return None
