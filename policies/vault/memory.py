"""The pseudonym vault: value ↔ placeholder, one vault per conversation.

The same value always maps to the same placeholder within a conversation (across turns,
messages and tool calls) and two values never share one. A vault is held only once it holds
a value (a request with no findings creates none); each identity holds at most its quota of
them, they expire when unused, and none is ever evicted for another identity (quotas.py). In
memory by default (nothing persisted); replicas on one database share them through
`postgres.py`, which stores each value encrypted.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from cogate.policies.vault.quotas import Quotas, capacity, vault_quota

# Short labels models copy faithfully; other types use their own name.
LABELS = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IP_ADDRESS": "IP",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "SSN",
    "US_ITIN": "ITIN",
    "US_PASSPORT": "PASSPORT",
    "US_DRIVER_LICENSE": "LICENSE",
    "US_BANK_NUMBER": "ACCOUNT",
    "MEDICAL_LICENSE": "LICENSE",
    "DATE_TIME": "DATE",
    # Placeholder-shaped text the app itself sent (policies/literals.py).
    "PLACEHOLDER_TEXT": "LITERAL",
}


def label_for(entity_type: str) -> str:
    return LABELS.get(entity_type, entity_type)


def placeholder(label: str, number: int) -> str:
    return f"[{label}_{number}]"


class VaultFull(RuntimeError):
    pass


class Vault:
    """One conversation's mapping. Safe to use from several threads."""

    def __init__(self, max_values: int = 50_000) -> None:
        self.max_values = max_values
        self._lock = threading.Lock()
        self._by_value: dict[str, tuple[str, int]] = {}
        self._by_key: dict[tuple[str, int], str] = {}
        self._counters: dict[str, int] = {}
        self.floor = 0  # placeholder numbers start above this
        self.last_used = time.monotonic()
        # A vault not yet held by its store: called before its first value is assigned, it
        # registers the vault under its owner's quota (and may refuse with 429).
        self.on_first: Callable[[], None] | None = None

    def pseudonym(self, entity_type: str, value: str, avoid: str = "") -> str:
        """The placeholder of `value`, assigning the next free one on first sight.

        `avoid` is text the placeholder must not already appear in (the app's own text may
        contain something shaped like a placeholder; reusing it would restore wrongly).
        """
        with self._lock:
            self.last_used = time.monotonic()
            while True:
                known = self._by_value.get(value)
                if known is not None:
                    return placeholder(*known)
                if len(self._by_value) >= self.max_values:
                    raise VaultFull(
                        f"this conversation holds {self.max_values} pseudonyms, the vault's "
                        "limit; start a new conversation (x-cogate-conversation)"
                    )
                if self.on_first is not None:
                    self.on_first()
                    self.on_first = None
                label = label_for(entity_type)
                number = self._next_free(label, avoid)
                if self._claim(label, number, value):
                    self._record(label, number, value)
                    return placeholder(label, number)
                # Another replica took that number (or mapped this value) first: learn it.
                self._refresh()

    def _next_free(self, label: str, avoid: str) -> int:
        number = self._counters.get(label, self.floor)
        folded = avoid.casefold()
        while True:
            number += 1
            candidate = placeholder(label, number)
            bare = f"{label}_{number}".casefold()
            if candidate.casefold() not in folded and bare not in folded:
                return number

    def _record(self, label: str, number: int, value: str) -> None:
        self._counters[label] = max(self._counters.get(label, 0), number)
        self._by_value[value] = (label, number)
        self._by_key[(label, number)] = value

    # Hooks for a vault shared by replicas (policies/vault/postgres.py); in memory they are no-ops.
    def _claim(self, label: str, number: int, value: str) -> bool:
        """Make the new mapping durable where other replicas see it; False if taken."""
        return True

    def _refresh(self) -> None:
        """Load mappings other replicas added since the last look."""

    def reserve(self, floor: int) -> None:
        """Number new placeholders above `floor`: a vault that continues a history it never
        saw (a Responses chain from before a restart) must not reuse that history's numbers."""
        with self._lock:
            if not self._by_key:
                self.floor = max(self.floor, floor)

    def value(self, label: str, number: int) -> str | None:
        with self._lock:
            return self._by_key.get((label, number))

    def labels(self) -> set[str]:
        with self._lock:
            return {label for label, _ in self._by_key}

    def __len__(self) -> int:
        return len(self._by_value)


class VaultBackend(Protocol):
    """Where the vaults live: `get` the vault of a conversation key for its owner (the
    caller's identity); a new one when unknown or expired, held only once it gets a value.
    `ephemeral`: a vault for one request only, never held. In memory by default; PostgreSQL
    for replicas (postgres.py)."""

    def get(self, key: str, owner: str = "", *, ephemeral: bool = False) -> Vault: ...


class VaultStore:
    """Vaults by owner and conversation key in memory: each owner holds at most its quota,
    the process at most `max_vaults`; unused ones expire after `ttl` seconds."""

    def __init__(self, quotas: Quotas | None = None, ttl: float = 24 * 3600.0) -> None:
        self.quotas = quotas or Quotas()
        self.ttl = ttl
        self._owners: dict[str, OrderedDict[str, Vault]] = {}
        # Vaults handed out but holding no value yet: the same object while a request holds
        # it (two calls of one request, or two requests at once, share it), gone after.
        self._pending: weakref.WeakValueDictionary[tuple[str, str], Vault] = (
            weakref.WeakValueDictionary()
        )
        self._count = 0
        self._lock = threading.Lock()

    def get(self, key: str, owner: str = "", *, ephemeral: bool = False) -> Vault:
        now = time.monotonic()
        with self._lock:
            vaults = self._owners.get(owner)
            vault = vaults.get(key) if vaults is not None else None
            if vault is not None and vaults is not None:
                if now - vault.last_used <= self.ttl:
                    vault.last_used = now
                    vaults.move_to_end(key)
                    return vault
                del vaults[key]
                self._count -= 1
            if ephemeral:
                return Vault()
            vault = self._pending.get((owner, key))
            if vault is None:
                vault = Vault()
                vault.on_first = functools.partial(self._hold, owner, key, weakref.ref(vault))
                self._pending[(owner, key)] = vault
            return vault

    def _hold(self, owner: str, key: str, ref: weakref.ref[Vault]) -> None:
        """Hold a vault that is getting its first value, within its owner's quota."""
        now = time.monotonic()
        vault = ref()
        if vault is None:  # cannot happen while its own pseudonym() runs
            return
        with self._lock:
            vaults = self._owners.setdefault(owner, OrderedDict())
            if key in vaults:
                return
            self._expire(vaults, now)
            if len(vaults) >= self.quotas.vaults_per_identity:
                raise vault_quota(self.quotas.vaults_per_identity)
            if self._count >= self.quotas.max_vaults:
                for other in list(self._owners.values()):
                    self._expire(other, now)
                if self._count >= self.quotas.max_vaults:
                    raise capacity("vaults", self.quotas.max_vaults, "MAX_VAULTS")
            vault.last_used = now
            vaults[key] = vault
            self._count += 1
            self._pending.pop((owner, key), None)

    def _expire(self, vaults: OrderedDict[str, Vault], now: float) -> None:
        """Drop this owner's vaults unused for longer than the ttl (oldest first)."""
        while vaults:
            oldest_key, oldest = next(iter(vaults.items()))
            if now - oldest.last_used <= self.ttl:
                break
            del vaults[oldest_key]
            self._count -= 1

    def held(self, owner: str) -> int:
        with self._lock:
            return len(self._owners.get(owner, ()))

    def __len__(self) -> int:
        return self._count
