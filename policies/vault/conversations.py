"""Which vault an exchange uses, and whether it may name the stored state it names, worked
out once per request.

The vault of an exchange is that of the stored state it continues, else its conversation
header, else its opening, else its own — always within its caller (identity, app): two
callers never share a vault, whatever ids, conversation header or opening messages they send.
On a shared gateway a request may name only stored ids its own caller created (else 404,
nothing forwarded), and may create new ones only within its identity's quota (else 429).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from cogate.core.errors import NotFound
from cogate.core.exchange import Exchange
from cogate.core.surface import continues, keeps_state
from cogate.policies.vault.backends import VaultBackends
from cogate.policies.vault.chains import UNKNOWN_FLOOR
from cogate.policies.vault.memory import Vault

# Stored ids the surface derives from opaque items rather than reads from the upstream's
# answer (a compaction item's keyed digest): the caller holds the item itself, so an unknown
# one is continued above the numbering floor rather than refused.
DERIVED_PREFIX = "compaction:"


class ConversationVaults:
    def __init__(self, backends: VaultBackends) -> None:
        self.vaults = backends.vaults
        self.stored = backends.stored

    def key(self, ex: Exchange) -> str:
        """The exchange's vault key; the stored-id lookup runs once per exchange."""
        if ex.vault_key is None:
            ids = continues(ex.surface, ex.op, ex.body, ex.params)
            known = self.stored.first_known(owner(ex), caller(ex), ids)
            # Stored state this process never saw (or forgot): its own vault, numbered above
            # a floor so that it never reuses a placeholder the upstream already holds.
            ex.continues_state = bool(ids)
            ex.continues_unknown = bool(ids) and known is None
            if known is not None:
                ex.vault_key = known
            else:
                ex.vault_key, ex.vault_ephemeral = _derived_key(ex, ids)
        return ex.vault_key

    def admit(self, ex: Exchange) -> None:
        """Before anything is forwarded, in every mode: the stored ids a shared gateway's
        caller names must be its own, and new ones must fit its quota; the answer's ids are
        then remembered as this caller's."""
        key = self.key(ex)
        if ex.bound_apps is not None and ex.continues_state:
            self._check_owner(ex)
        if keeps_state(ex.surface) and ex.method == "POST" and not ex.params:
            self.stored.room(owner(ex))
        if ex.on_stored is None:
            ex.on_stored = functools.partial(self._remember, owner(ex), caller(ex), key)

    def _check_owner(self, ex: Exchange) -> None:
        for object_id in continues(ex.surface, ex.op, ex.body, ex.params):
            if object_id.startswith(DERIVED_PREFIX):
                continue
            if self.stored.first_known(owner(ex), caller(ex), [object_id]) is None:
                # The same answer whether the id exists for another caller or not at all.
                raise NotFound(
                    "no stored response or conversation with that id was created with this "
                    "token (and app); on a shared gateway each caller reaches only its own"
                )

    def vault(self, ex: Exchange) -> Vault:
        key = self.key(ex)
        vault = self.vaults.get(key, owner(ex), ephemeral=ex.vault_ephemeral)
        # Continuing stored state with no vault (never seen, or expired here while the
        # upstream kept the history): number above the floor, never from 1 again.
        if ex.continues_unknown or (ex.continues_state and len(vault) == 0):
            vault.reserve(UNKNOWN_FLOOR)
        if ex.on_stored is None:
            ex.on_stored = functools.partial(self._remember, owner(ex), caller(ex), key)
        return vault

    def follow(self, ex: Exchange) -> None:
        """Requests that continue the ids this exchange's answer is stored under (a local
        answer's response id too) take its key: how a sticky route follows a chain."""
        key = self.key(ex)
        if ex.on_stored is None:
            ex.on_stored = functools.partial(self._remember, owner(ex), caller(ex), key)

    def _remember(self, quota_owner: str, who: str, key: str, ids: list[str]) -> None:
        for object_id in ids:
            self.stored.remember(quota_owner, who, object_id, key)


def owner(ex: Exchange) -> str:
    """Whose quota an exchange's vaults and stored ids count against: its identity."""
    return ex.identity


def caller(ex: Exchange) -> str:
    """Whose stored ids these are: the identity and the app, never one without the other."""
    return json.dumps([ex.identity, ex.app], ensure_ascii=False)


def _derived_key(ex: Exchange, ids: list[str]) -> tuple[str, bool]:
    """The vault key from the request itself, and whether it serves this request only."""
    opening = ex.surface.conversation_seed(ex.op, ex.body) if ex.surface else None
    if ex.conversation:
        seed: Any = ["header", ex.conversation]
    elif ids:
        seed = ["continues", ids[0]]
    elif opening is not None:
        seed = opening
    else:
        seed = ["exchange", ex.id]  # no conversation: a vault for this request only
    raw = json.dumps([ex.identity, ex.app, seed], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest(), seed == ["exchange", ex.id]
