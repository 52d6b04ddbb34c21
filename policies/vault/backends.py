"""The vaults and the stored ids that continue them, chosen once from the settings: in memory
for one gateway, in PostgreSQL when replicas share a database (a vault key that lives there
must outlive the process as the vault does)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cogate.core.database import Database
from cogate.policies.vault.chains import StoredIds, StoredIdsBackend
from cogate.policies.vault.memory import VaultBackend, VaultStore


@dataclass(frozen=True)
class VaultBackends:
    vaults: VaultBackend
    stored: StoredIdsBackend


def open_vault_backends(database: Database | str | None, keys_dir: Path) -> VaultBackends:
    """`database` (shared with the ledger and tokens by the composition root, or a URL this
    store then owns) puts both in PostgreSQL; None keeps them in this process."""
    if database is None:
        return VaultBackends(VaultStore(), StoredIds())
    from cogate.policies.vault.pg_chains import PostgresStoredIds
    from cogate.policies.vault.postgres import PostgresVaultStore

    vaults = PostgresVaultStore(database, keys_dir)
    return VaultBackends(vaults, PostgresStoredIds(vaults))
