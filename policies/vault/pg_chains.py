"""Responses chains in PostgreSQL: (caller, stored id) → vault key, shared by replicas and
kept across restarts, so a `previous_response_id` turn restores the placeholders of the turn
it continues whichever replica, or whichever process after a restart, answers it.

The caller and the stored id are kept only as keyed HMAC tags and the vault key AES-GCM
sealed, both with the vault's cipher (postgres.py): the database alone reveals neither. The
table comes from the ledger's migrations (audit/migrations.py m005_stored_ids).
"""

from __future__ import annotations

import threading
import time

from cogate.policies.vault.postgres import SWEEP_EVERY_S, PostgresVaultStore


class PostgresStoredIds:
    """`StoredIds` on the vaults' database: bounded in number, expiring after `ttl` unused."""

    def __init__(
        self,
        vaults: PostgresVaultStore,
        max_entries: int = 100_000,
        ttl: float = 24 * 3600.0,
        sweep_every: float = SWEEP_EVERY_S,
    ) -> None:
        self.vaults = vaults  # its connection pool and cipher
        self.max_entries = max_entries
        self.ttl = ttl
        self.sweep_every = sweep_every
        self._swept = -sweep_every  # the first write sweeps
        self._lock = threading.Lock()

    def _tags(self, identity: str, object_id: str) -> tuple[str, str]:
        cipher = self.vaults.cipher
        return cipher.tag("caller", identity), cipher.tag("stored id", identity, object_id)

    def remember(self, identity: str, object_id: str, vault_key: str) -> None:
        """Durable before it returns (autocommit): the next turn may reach another replica."""
        owner, obj = self._tags(identity, object_id)
        sealed = self.vaults.cipher.seal(vault_key, f"{owner}|{obj}")
        with self.vaults.pool.connection() as conn:
            conn.execute(
                "INSERT INTO stored_ids (owner, object, vault_key, last_used) "
                "VALUES (%s, %s, %s, now()) ON CONFLICT (owner, object) DO UPDATE "
                "SET vault_key = EXCLUDED.vault_key, last_used = now()",
                (owner, obj, sealed),
            )
        self._sweep()

    def lookup(self, identity: str, object_id: str) -> str | None:
        owner, obj = self._tags(identity, object_id)
        with self.vaults.pool.connection() as conn:
            row = conn.execute(
                "UPDATE stored_ids SET last_used = now() WHERE owner = %s AND object = %s "
                "AND last_used >= now() - make_interval(secs => %s) RETURNING vault_key",
                (owner, obj, self.ttl),
            ).fetchone()
        if row is None:
            return None
        return self.vaults.cipher.open(bytes(row[0]), f"{owner}|{obj}")

    def first_known(self, identity: str, ids: list[str]) -> str | None:
        """The vault key of the most specific id this identity's requests stored."""
        for object_id in ids:
            known = self.lookup(identity, object_id)
            if known is not None:
                return known
        return None

    def _sweep(self) -> None:
        """Drop expired entries and the least recently used beyond the bound."""
        now = time.monotonic()
        with self._lock:
            if now - self._swept < self.sweep_every:
                return
            self._swept = now
        with self.vaults.pool.connection() as conn, conn.transaction():
            conn.execute(
                "DELETE FROM stored_ids WHERE last_used < now() - make_interval(secs => %s)",
                (self.ttl,),
            )
            conn.execute(
                "DELETE FROM stored_ids WHERE (owner, object) IN (SELECT owner, object "
                "FROM stored_ids ORDER BY last_used DESC OFFSET %s)",
                (self.max_entries,),
            )
