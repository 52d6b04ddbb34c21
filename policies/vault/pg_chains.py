"""Responses chains in PostgreSQL: (caller, stored id) → vault key, shared by replicas and
kept across restarts, so a `previous_response_id` turn restores the placeholders of the turn
it continues whichever replica, or whichever process after a restart, answers it.

The caller, its identity (the quota's owner) and the stored id are kept only as keyed HMAC
tags and the vault key AES-GCM sealed, both with the vault's cipher (postgres.py): the
database alone reveals none of them. The table comes from the vaults' migrations.
"""

from __future__ import annotations

import threading
import time

from cogate.policies.vault.postgres import SWEEP_EVERY_S, PostgresVaultStore
from cogate.policies.vault.quotas import Quotas, stored_id_quota


class PostgresStoredIds:
    """`StoredIds` on the vaults' database: within each owner's quota, expiring after `ttl`
    unused; one owner's entries are never dropped for another's."""

    def __init__(
        self,
        vaults: PostgresVaultStore,
        quotas: Quotas | None = None,
        ttl: float = 24 * 3600.0,
        sweep_every: float = SWEEP_EVERY_S,
    ) -> None:
        self.vaults = vaults  # its connection pool and cipher
        self.quotas = quotas or Quotas()
        self.ttl = ttl
        self.sweep_every = sweep_every
        self._swept = -sweep_every  # the first write sweeps
        self._lock = threading.Lock()

    def _tags(self, caller: str, object_id: str) -> tuple[str, str]:
        cipher = self.vaults.cipher
        return cipher.tag("caller", caller), cipher.tag("stored id", caller, object_id)

    def remember(self, owner: str, caller: str, object_id: str, vault_key: str) -> None:
        """Durable before it returns (autocommit): the next turn may reach another replica."""
        who, obj = self._tags(caller, object_id)
        quota_owner = self.vaults.cipher.tag("owner", owner)
        sealed = self.vaults.cipher.seal(vault_key, f"{who}|{obj}")
        with self.vaults.pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO stored_ids (owner, object, vault_key, last_used, quota_owner) "
                "VALUES (%s, %s, %s, now(), %s) ON CONFLICT (owner, object) DO UPDATE "
                "SET vault_key = EXCLUDED.vault_key, last_used = now()",
                (who, obj, sealed, quota_owner),
            )
            # `room` refused new requests at the quota; answers under way when it filled
            # push out this owner's own oldest entries only.
            conn.execute(
                "DELETE FROM stored_ids WHERE (owner, object) IN (SELECT owner, object "
                "FROM stored_ids WHERE quota_owner = %s ORDER BY last_used DESC OFFSET %s)",
                (quota_owner, self.quotas.stored_ids_per_identity),
            )
        self._sweep()

    def room(self, owner: str) -> None:
        quota_owner = self.vaults.cipher.tag("owner", owner)
        with self.vaults.pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FROM stored_ids WHERE quota_owner = %s "
                "AND last_used >= now() - make_interval(secs => %s)",
                (quota_owner, self.ttl),
            ).fetchone()
        if row is not None and row[0] >= self.quotas.stored_ids_per_identity:
            raise stored_id_quota(self.quotas.stored_ids_per_identity)

    def lookup(self, owner: str, caller: str, object_id: str) -> str | None:
        who, obj = self._tags(caller, object_id)
        with self.vaults.pool.connection() as conn:
            row = conn.execute(
                "UPDATE stored_ids SET last_used = now() WHERE owner = %s AND object = %s "
                "AND last_used >= now() - make_interval(secs => %s) RETURNING vault_key",
                (who, obj, self.ttl),
            ).fetchone()
        if row is None:
            return None
        return self.vaults.cipher.open(bytes(row[0]), f"{who}|{obj}")

    def first_known(self, owner: str, caller: str, ids: list[str]) -> str | None:
        """The vault key of the most specific id this caller's requests stored."""
        for object_id in ids:
            known = self.lookup(owner, caller, object_id)
            if known is not None:
                return known
        return None

    def held(self, owner: str) -> int:
        quota_owner = self.vaults.cipher.tag("owner", owner)
        with self.vaults.pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FROM stored_ids WHERE quota_owner = %s", (quota_owner,)
            ).fetchone()
        return int(row[0]) if row else 0

    def _sweep(self) -> None:
        """Drop expired entries (owners are held to their quotas, not evicted globally)."""
        now = time.monotonic()
        with self._lock:
            if now - self._swept < self.sweep_every:
                return
            self._swept = now
        with self.vaults.pool.connection() as conn:
            conn.execute(
                "DELETE FROM stored_ids WHERE last_used < now() - make_interval(secs => %s)",
                (self.ttl,),
            )
