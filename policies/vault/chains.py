"""Which pseudonym vault continues state the upstream keeps by id (stored responses,
conversations, compaction items): after an answer, its ids map to the vault of the request
that produced it, so a later request naming them is pseudonymised and restored with the same
vault; on a shared gateway they are also the proof of who created an id (ownership).

Entries are per caller (identity and app), counted against the identity's quota
(quotas.py) and expire when unused; one identity never evicts another's. In memory a restart
forgets them (a request continuing an id this process never saw gets a vault of its own that
numbers its placeholders above `UNKNOWN_FLOOR`, see `Vault.reserve`); with a database they
live beside the vaults (pg_chains.py) and survive restarts.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Protocol

from cogate.policies.vault.quotas import Quotas, capacity, stored_id_quota

# A vault continuing a history this process does not know numbers its placeholders from
# here, so they cannot collide with the placeholders the upstream stored before.
UNKNOWN_FLOOR = 1000


class StoredIdsBackend(Protocol):
    """Where the chains live: in memory (`StoredIds`) or PostgreSQL (pg_chains.py).
    `owner` is the identity whose quota an entry counts against; `caller` who may use it."""

    def remember(self, owner: str, caller: str, object_id: str, vault_key: str) -> None: ...

    def first_known(self, owner: str, caller: str, ids: list[str]) -> str | None: ...

    def room(self, owner: str) -> None:
        """Raise the 429 naming the quota when `owner` may remember no further id."""
        ...


class StoredIds:
    """(caller, stored id) → vault key per owner, within quotas and expiring."""

    def __init__(self, quotas: Quotas | None = None, ttl: float = 24 * 3600.0) -> None:
        self.quotas = quotas or Quotas()
        self.ttl = ttl
        self._owners: dict[str, OrderedDict[tuple[str, str], tuple[str, float]]] = {}
        self._count = 0
        self._lock = threading.Lock()

    def remember(self, owner: str, caller: str, object_id: str, vault_key: str) -> None:
        now = time.monotonic()
        with self._lock:
            keys = self._owners.setdefault(owner, OrderedDict())
            if (caller, object_id) not in keys:
                self._count += 1
            keys[(caller, object_id)] = (vault_key, now)
            keys.move_to_end((caller, object_id))
            self._expire(keys, now)
            # `room` refused new requests at the quota; answers already under way when it
            # filled (or an answer naming several ids) push out this owner's own oldest only.
            while len(keys) > self.quotas.stored_ids_per_identity:
                keys.popitem(last=False)
                self._count -= 1

    def room(self, owner: str) -> None:
        now = time.monotonic()
        with self._lock:
            keys = self._owners.get(owner)
            if keys is not None:
                self._expire(keys, now)
                if len(keys) >= self.quotas.stored_ids_per_identity:
                    raise stored_id_quota(self.quotas.stored_ids_per_identity)
            if self._count >= self.quotas.max_stored_ids:
                for other in self._owners.values():
                    self._expire(other, now)
                if self._count >= self.quotas.max_stored_ids:
                    raise capacity("stored ids", self.quotas.max_stored_ids, "MAX_STORED_IDS")

    def _expire(self, keys: OrderedDict[tuple[str, str], tuple[str, float]], now: float) -> None:
        while keys:
            oldest, (_, used) = next(iter(keys.items()))
            if now - used <= self.ttl:
                break
            del keys[oldest]
            self._count -= 1

    def lookup(self, owner: str, caller: str, object_id: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            keys = self._owners.get(owner)
            found = keys.get((caller, object_id)) if keys is not None else None
            if keys is None or found is None or now - found[1] > self.ttl:
                return None
            keys[(caller, object_id)] = (found[0], now)
            keys.move_to_end((caller, object_id))
            return found[0]

    def first_known(self, owner: str, caller: str, ids: list[str]) -> str | None:
        """The vault key of the most specific id this caller's requests stored."""
        for object_id in ids:
            known = self.lookup(owner, caller, object_id)
            if known is not None:
                return known
        return None

    def held(self, owner: str) -> int:
        with self._lock:
            return len(self._owners.get(owner, ()))
