"""The shared vaults' schema in PostgreSQL, applied when a vault store opens (so a vault opens
without the ledger), as an append-only list of named steps recorded in `_vault_migrations`.

Databases created before these steps had the tables from the ledger's m003_vaults and
m005_stored_ids: the steps create only what is missing. Never edit or reorder a shipped
step: add a new one at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cogate.core.database import apply_migrations

Step = Callable[[Any], None]  # a psycopg connection inside a transaction

# Any fixed 64-bit number other than the ledger's; every cogate process on a database agrees.
VAULT_MIGRATION_LOCK = 0x636F67617465_02


def v001_vaults(db: Any) -> None:
    # Pseudonym vaults: keys are HMAC tags, values AES-GCM sealed (postgres.py).
    db.execute(
        "CREATE TABLE IF NOT EXISTS vaults (key TEXT PRIMARY KEY, last_used TIMESTAMPTZ NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS vaults_last_used ON vaults (last_used)")
    db.execute(
        """CREATE TABLE IF NOT EXISTS vault_entries (
            id BIGSERIAL PRIMARY KEY,
            vault TEXT NOT NULL REFERENCES vaults (key) ON DELETE CASCADE,
            label TEXT NOT NULL,
            number INTEGER NOT NULL,
            tag TEXT NOT NULL,
            value BYTEA NOT NULL,
            UNIQUE (vault, label, number),
            UNIQUE (vault, tag)
        )"""
    )


def v002_stored_ids(db: Any) -> None:
    # Responses chains that survive a restart (pg_chains.py): the caller and the stored id
    # only as HMAC tags, the vault key AES-GCM sealed.
    db.execute(
        """CREATE TABLE IF NOT EXISTS stored_ids (
            owner TEXT NOT NULL,
            object TEXT NOT NULL,
            vault_key BYTEA NOT NULL,
            last_used TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (owner, object)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS stored_ids_last_used ON stored_ids (last_used)")


def v003_owners(db: Any) -> None:
    # Each identity's quota (quotas.py): a vault's and a stored id's owner, as an HMAC tag.
    # Rows from before have none and count against nobody's quota until they expire.
    db.execute("ALTER TABLE vaults ADD COLUMN IF NOT EXISTS owner TEXT")
    db.execute("CREATE INDEX IF NOT EXISTS vaults_owner ON vaults (owner, last_used)")
    db.execute("ALTER TABLE stored_ids ADD COLUMN IF NOT EXISTS quota_owner TEXT")
    db.execute(
        "CREATE INDEX IF NOT EXISTS stored_ids_quota_owner ON stored_ids (quota_owner, last_used)"
    )


STEPS: list[Step] = [v001_vaults, v002_stored_ids, v003_owners]


def migrate_vaults(conn: Any, steps: list[Step] | None = None) -> list[str]:
    """Apply pending steps in one transaction under an advisory lock; the names applied."""
    todo = steps if steps is not None else STEPS
    return apply_migrations(
        conn, VAULT_MIGRATION_LOCK, "_vault_migrations", [(s.__name__, s) for s in todo]
    )
