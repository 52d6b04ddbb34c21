"""Which vault an exchange uses, worked out once per request.

The vault of an exchange is that of the stored state it continues, else its conversation
header, else its opening, else its own — always within its caller (identity, app): two
callers never share a vault, whatever ids, conversation header or opening messages they send.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from cogate.core.exchange import Exchange
from cogate.core.surface import continues
from cogate.policies.vault.backends import VaultBackends
from cogate.policies.vault.chains import UNKNOWN_FLOOR
from cogate.policies.vault.memory import Vault


class ConversationVaults:
    def __init__(self, backends: VaultBackends) -> None:
        self.vaults = backends.vaults
        self.stored = backends.stored

    def key(self, ex: Exchange) -> str:
        """The exchange's vault key; the stored-id lookup runs once per exchange."""
        if ex.vault_key is None:
            ids = continues(ex.surface, ex.op, ex.body, ex.params)
            known = self.stored.first_known(caller(ex), ids)
            # Stored state this process never saw (or forgot): its own vault, numbered above
            # a floor so that it never reuses a placeholder the upstream already holds.
            ex.continues_unknown = bool(ids) and known is None
            ex.vault_key = known if known is not None else _derived_key(ex, ids)
        return ex.vault_key

    def vault(self, ex: Exchange) -> Vault:
        key = self.key(ex)
        vault = self.vaults.get(key)
        if ex.continues_unknown:
            vault.reserve(UNKNOWN_FLOOR)
        if ex.on_stored is None:
            ex.on_stored = functools.partial(self._remember, caller(ex), key)
        return vault

    def follow(self, ex: Exchange) -> None:
        """Requests that continue the ids this exchange's answer is stored under (a local
        answer's response id too) take its key: how a sticky route follows a chain."""
        key = self.key(ex)
        if ex.on_stored is None:
            ex.on_stored = functools.partial(self._remember, caller(ex), key)

    def _remember(self, identity: str, key: str, ids: list[str]) -> None:
        for object_id in ids:
            self.stored.remember(identity, object_id, key)


def caller(ex: Exchange) -> str:
    """Whose stored ids these are: the identity and the app, never one without the other."""
    return json.dumps([ex.identity, ex.app], ensure_ascii=False)


def _derived_key(ex: Exchange, ids: list[str]) -> str:
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
    return hashlib.sha256(raw.encode()).hexdigest()
