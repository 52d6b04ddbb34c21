"""Pseudonym vaults in PostgreSQL, shared by gateway replicas: a conversation's second turn
gets the same placeholders whichever replica answers it.

Each value is stored AES-GCM encrypted under a key from the data dir's `keys/vault.key`
(shared by replicas like the ledger keys), with the conversation and placeholder as
associated data; lookups use keyed HMAC tags. The database alone reveals no value and no
conversation key. The tables come from the vaults' own migrations (migrations.py), applied
when the store first connects.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

from cogate.core.database import Database, DatabaseUse
from cogate.core.private_files import create_once, private_dir
from cogate.policies.vault.memory import Vault
from cogate.policies.vault.migrations import migrate_vaults
from cogate.policies.vault.quotas import Quotas, vault_quota
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg_pool import ConnectionPool

VAULT_KEY_FILE = "vault.key"
SWEEP_EVERY_S = 60.0


class VaultCipher:
    """Encryption and keyed tags, from one 32-byte secret split by purpose."""

    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(hmac.new(secret, b"cogate vault aes-gcm", hashlib.sha256).digest())
        self._mac = hmac.new(secret, b"cogate vault tags", hashlib.sha256).digest()

    @classmethod
    def from_keys_dir(cls, keys_dir: Path) -> VaultCipher:
        private_dir(keys_dir)
        text = create_once(keys_dir / VAULT_KEY_FILE, secrets.token_hex(32).encode())
        return cls(bytes.fromhex(text.decode().strip()))

    def tag(self, *parts: str) -> str:
        return hmac.new(self._mac, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()

    def seal(self, value: str, aad: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value.encode(), aad.encode())

    def open(self, blob: bytes, aad: str) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], aad.encode()).decode()


class SharedVault(Vault):
    """One conversation's vault, backed by rows other replicas see before a request leaves."""

    def __init__(self, store: PostgresVaultStore, row_key: str, max_values: int = 50_000) -> None:
        super().__init__(max_values)
        self.store = store
        self.row_key = row_key
        self._seen = 0  # highest vault_entries.id loaded
        self.held = True  # its `vaults` row exists (else it is created with the first value)

    def _aad(self, label: str, number: int) -> str:
        return f"{self.row_key}|{label}|{number}"

    def _claim(self, label: str, number: int, value: str) -> bool:
        cipher = self.store.cipher
        with self.store.pool.connection() as conn:
            row = conn.execute(
                "INSERT INTO vault_entries (vault, label, number, tag, value) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
                (
                    self.row_key,
                    label,
                    number,
                    cipher.tag("value", self.row_key, value),
                    cipher.seal(value, self._aad(label, number)),
                ),
            ).fetchone()
        return row is not None

    def _refresh(self) -> None:
        with self.store.pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, label, number, value FROM vault_entries "
                "WHERE vault = %s AND id > %s ORDER BY id",
                (self.row_key, self._seen),
            ).fetchall()
        for row_id, label, number, blob in rows:
            value = self.store.cipher.open(bytes(blob), self._aad(label, number))
            self._record(label, number, value)
            self._seen = max(self._seen, row_id)

    def refresh(self) -> None:
        with self._lock:
            self._refresh()

    def value(self, label: str, number: int) -> str | None:
        found = super().value(label, number)
        if found is None:
            # Assigned by another replica since this one last looked.
            self.refresh()
            found = super().value(label, number)
        return found


class PostgresVaultStore:
    """`VaultBackend` on PostgreSQL: each owner holds at most its quota of vaults (a row is
    written with a vault's first value, never for a request with no findings); unused ones
    expire after `ttl`; none is evicted for another owner."""

    def __init__(
        self,
        database: Database | str,
        keys_dir: Path,
        *,
        quotas: Quotas | None = None,
        ttl: float = 24 * 3600.0,
        cache: int = 1_000,
    ) -> None:
        self.use = DatabaseUse(database, "vault", 8)
        self.cipher = VaultCipher.from_keys_dir(keys_dir)
        self.quotas = quotas or Quotas()
        self.ttl = ttl
        self._cache: OrderedDict[str, SharedVault] = OrderedDict()
        self._cache_size = cache
        self._lock = threading.Lock()
        self._migrated = False
        self._swept = 0.0

    @property
    def pool(self) -> ConnectionPool:
        # Connected on first use; the first connection applies the vault tables' migrations.
        pool = self.use.pool
        with self._lock:
            if not self._migrated:
                with pool.connection() as conn:
                    migrate_vaults(conn)
                self._migrated = True
        return pool

    def get(self, key: str, owner: str = "", *, ephemeral: bool = False) -> Vault:
        if ephemeral:
            return Vault()  # one request's vault: no replica will ever ask for it
        row_key = self.cipher.tag("conversation", key)
        held = self._touch(row_key)
        with self._lock:
            vault = self._cache.get(row_key)
            if vault is None or vault.held != held or (not held and vault.on_first is None):
                vault = SharedVault(self, row_key)
                vault.held = held
                if not held:
                    vault.on_first = functools.partial(self._hold, row_key, owner)
                self._cache[row_key] = vault
            self._cache.move_to_end(row_key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if held:
            vault.refresh()
        self._sweep()
        return vault

    def _touch(self, row_key: str) -> bool:
        """Mark the conversation used; False when it has no row (new, or expired and then
        dropped with its values)."""
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "UPDATE vaults SET last_used = now() WHERE key = %s "
                "AND last_used >= now() - make_interval(secs => %s) RETURNING key",
                (row_key, self.ttl),
            ).fetchone()
            if row is None:
                conn.execute(
                    "DELETE FROM vaults WHERE key = %s "
                    "AND last_used < now() - make_interval(secs => %s)",
                    (row_key, self.ttl),
                )
        return row is not None

    def _hold(self, row_key: str, owner: str) -> None:
        """Write the vault's row as it gets its first value, within its owner's quota. The
        owner's count is serialised by an advisory lock, so replicas cannot overshoot it."""
        tag = self.cipher.tag("owner", owner)
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(tag),))
            held = conn.execute(
                "SELECT count(*) FROM vaults WHERE owner = %s AND key <> %s "
                "AND last_used >= now() - make_interval(secs => %s)",
                (tag, row_key, self.ttl),
            ).fetchone()
            if held is not None and held[0] >= self.quotas.vaults_per_identity:
                raise vault_quota(self.quotas.vaults_per_identity)
            conn.execute(
                "INSERT INTO vaults (key, owner, last_used) VALUES (%s, %s, now()) "
                "ON CONFLICT (key) DO UPDATE SET last_used = now()",
                (row_key, tag),
            )
        with self._lock:
            cached = self._cache.get(row_key)
            if cached is not None:
                cached.held = True

    def held(self, owner: str) -> int:
        """The owner's live vaults (for tests and the soak bench)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FROM vaults WHERE owner = %s "
                "AND last_used >= now() - make_interval(secs => %s)",
                (self.cipher.tag("owner", owner), self.ttl),
            ).fetchone()
        return int(row[0]) if row else 0

    def _sweep(self) -> None:
        """Drop expired conversations with their values (never a live one: owners are held
        to their quotas instead of a global eviction)."""
        now = time.monotonic()
        if now - self._swept < SWEEP_EVERY_S:
            return
        self._swept = now
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                "DELETE FROM vaults WHERE last_used < now() - make_interval(secs => %s)",
                (self.ttl,),
            )

    def close(self) -> None:
        with self._lock:
            self.use.close()
            self._migrated = False


def _lock_id(tag: str) -> int:
    """A signed 64-bit advisory lock number from a hex tag."""
    return int(tag[:16], 16) - (1 << 63)
