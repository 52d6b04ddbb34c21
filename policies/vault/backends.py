"""The vaults and the stored ids that continue them, chosen once from the settings: in memory
for one gateway, in PostgreSQL when replicas share a database (a vault key that lives there
must outlive the process as the vault does)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cogate.core.database import Database
from cogate.policies.vault.chains import StoredIds, StoredIdsBackend
from cogate.policies.vault.memory import VaultBackend, VaultStore
from cogate.policies.vault.quotas import Quotas


@dataclass(frozen=True)
class VaultBackends:
    vaults: VaultBackend
    stored: StoredIdsBackend


def open_vault_backends(
    database: Database | str | None, keys_dir: Path, quotas: Quotas | None = None
) -> VaultBackends:
    """`database` (shared with the ledger and tokens by the composition root, or a URL this
    store then owns) puts both in PostgreSQL; None keeps them in this process. `quotas`:
    each identity's share (quotas.py)."""
    quotas = quotas or Quotas()
    if database is None:
        return VaultBackends(VaultStore(quotas), StoredIds(quotas))
    from cogate.policies.vault.pg_chains import PostgresStoredIds
    from cogate.policies.vault.postgres import PostgresVaultStore

    vaults = PostgresVaultStore(database, keys_dir, quotas=quotas)
    return VaultBackends(vaults, PostgresStoredIds(vaults, quotas=quotas))
