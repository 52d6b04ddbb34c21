"""Which pseudonym vault a Responses request uses: stable along `previous_response_id`
chains and conversation ids, within the calling app.

After each answer the gateway remembers response id (and conversation id) → vault key, so
a later turn that names it is pseudonymised and restored with the same vault. Entries are
bounded in number and expire when unused; a restart forgets them (see the README).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any


class ResponseChains:
    """(identity, response or conversation id) → vault key, bounded and expiring."""

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


def identity_of(app: str) -> str:
    """The caller's identity. Today the app name; the one place to change when gateway
    identities arrive."""
    return app


def referenced_ids(op: str, body: dict[str, Any], path_id: str | None) -> list[str]:
    """Ids whose vault this request continues, most specific first."""
    ids = [path_id] if path_id else []
    if isinstance(body.get("previous_response_id"), str):
        ids.append(body["previous_response_id"])
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        conversation = conversation.get("id")
    if isinstance(conversation, str):
        ids.append(conversation)
    return ids


# A vault continuing a chain this process does not know numbers its placeholders from here,
# so they cannot collide with the placeholders the upstream stored before.
UNKNOWN_CHAIN_FLOOR = 1000


def continues_unknown(
    chains: ResponseChains, app: str, op: str, body: dict[str, Any], path_id: str | None
) -> bool:
    """True when the request names a response or conversation this process never saw."""
    ids = referenced_ids(op, body, path_id)
    identity = identity_of(app)
    return bool(ids) and all(chains.lookup(identity, i) is None for i in ids)


def vault_key(
    chains: ResponseChains,
    app: str,
    op: str,
    body: dict[str, Any],
    *,
    path_id: str | None,
    header: str | None,
    seed: Any,
    exchange_id: str,
) -> str:
    """The vault key of a Responses request (see the module docstring for the order)."""
    identity = identity_of(app)
    for object_id in referenced_ids(op, body, path_id):
        known = chains.lookup(identity, object_id)
        if known is not None:
            return known
    referenced = referenced_ids(op, body, path_id)
    if header:
        basis: Any = ["header", header]
    elif referenced:
        # A chain this process never saw (or forgot): its own vault, never another's.
        basis = ["unknown-chain", referenced[0]]
    elif seed is not None:
        basis = ["responses", seed]
    else:
        basis = ["exchange", exchange_id]
    raw = json.dumps([identity, basis], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()
