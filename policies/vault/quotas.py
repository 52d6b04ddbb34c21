"""Each identity's share of the gateway's vaults and stored ids, and the 429 that names it.

A shared gateway holds its callers' state side by side: one caller filling its share gets a
clear refusal; nothing of another caller's is ever evicted to make room (an evicted vault
restarts its numbering, and the next turn would restore placeholders with the wrong values).
"""

from __future__ import annotations

from dataclasses import dataclass

from cogate.core.errors import QuotaExceeded
from cogate.core.settings import Settings


@dataclass(frozen=True)
class Quotas:
    vaults_per_identity: int = 1_000
    stored_ids_per_identity: int = 10_000
    max_vaults: int = 100_000  # the whole process, in memory
    max_stored_ids: int = 500_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Quotas:
        return cls(
            settings.vaults_per_identity,
            settings.stored_ids_per_identity,
            settings.max_vaults,
            settings.max_stored_ids,
        )


def vault_quota(limit: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"this identity holds {limit} conversation vaults, its quota (vaults_per_identity); "
        "reuse a conversation (x-cogate-conversation) or wait until unused ones expire "
        "(24 h); the operator can raise COGATE_VAULTS_PER_IDENTITY",
        code="vault_quota_exceeded",
    )


def stored_id_quota(limit: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"this identity has {limit} stored responses, conversations and compaction items "
        "remembered, its quota (stored_ids_per_identity); continue existing ones, delete "
        "some, or send store=false; the operator can raise COGATE_STORED_IDS_PER_IDENTITY",
        code="stored_id_quota_exceeded",
    )


def capacity(what: str, limit: int, setting: str) -> QuotaExceeded:
    return QuotaExceeded(
        f"the gateway holds {limit} {what}, its capacity ({setting.lower()}), and evicts no "
        f"caller's to make room; retry later or have the operator raise COGATE_{setting}",
        code="gateway_capacity",
    )
