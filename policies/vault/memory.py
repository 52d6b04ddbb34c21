"""The pseudonym vault: value ↔ placeholder, one vault per conversation.

The same value always maps to the same placeholder within a conversation (across turns,
messages and tool calls) and two values never share one. Vaults are bounded in number and
expire when unused. In memory by default (nothing persisted); replicas on one database share
them through `postgres.py`, which stores each value encrypted.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Protocol

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
    """Where the vaults live: `get` the vault of a conversation key (a new, empty one when
    unknown or expired). In memory by default; PostgreSQL for replicas (postgres.py)."""

    def get(self, key: str) -> Vault: ...


class VaultStore:
    """Vaults by conversation key in memory: bounded in number, expiring after `ttl` seconds
    unused."""

    def __init__(self, max_conversations: int = 10_000, ttl: float = 24 * 3600.0) -> None:
        self.max_conversations = max_conversations
        self.ttl = ttl
        self._vaults: OrderedDict[str, Vault] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Vault:
        now = time.monotonic()
        with self._lock:
            vault = self._vaults.get(key)
            if vault is not None and now - vault.last_used > self.ttl:
                del self._vaults[key]
                vault = None
            if vault is None:
                vault = Vault()
                self._vaults[key] = vault
            vault.last_used = now
            self._vaults.move_to_end(key)
            self._evict(now)
            return vault

    def _evict(self, now: float) -> None:
        while self._vaults:
            oldest_key, oldest = next(iter(self._vaults.items()))
            if len(self._vaults) > self.max_conversations or now - oldest.last_used > self.ttl:
                del self._vaults[oldest_key]
            else:
                break

    def __len__(self) -> int:
        return len(self._vaults)
