"""Pseudonym vaults in PostgreSQL, shared by gateway replicas: a conversation's second turn
gets the same placeholders whichever replica answers it.

Each value is stored AES-GCM encrypted under a key from the data dir's `keys/vault.key`
(shared by replicas like the ledger keys), with the conversation and placeholder as
associated data; lookups use keyed HMAC tags. The database alone reveals no value and no
conversation key. The tables come from the vaults' own migrations (migrations.py), applied
when the store first connects.
"""

from __future__ import annotations

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
    """`VaultBackend` on PostgreSQL; bounded in number and expiring after `ttl` unused."""

    def __init__(
        self,
        database: Database | str,
        keys_dir: Path,
        *,
        max_conversations: int = 10_000,
        ttl: float = 24 * 3600.0,
        cache: int = 1_000,
    ) -> None:
        self.use = DatabaseUse(database, "vault", 8)
        self.cipher = VaultCipher.from_keys_dir(keys_dir)
        self.max_conversations = max_conversations
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

    def get(self, key: str) -> Vault:
        row_key = self.cipher.tag("conversation", key)
        fresh = self._touch(row_key)
        with self._lock:
            vault = None if fresh else self._cache.get(row_key)
            if vault is None:
                vault = SharedVault(self, row_key)
                self._cache[row_key] = vault
            self._cache.move_to_end(row_key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        vault.refresh()
        self._sweep()
        return vault

    def _touch(self, row_key: str) -> bool:
        """Mark the conversation used; True when it is new or had expired (then emptied)."""
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT extract(epoch FROM now() - last_used) FROM vaults WHERE key = %s "
                "FOR UPDATE",
                (row_key,),
            ).fetchone()
            expired = row is not None and float(row[0]) > self.ttl
            if expired:
                conn.execute("DELETE FROM vault_entries WHERE vault = %s", (row_key,))
            conn.execute(
                "INSERT INTO vaults (key, last_used) VALUES (%s, now()) "
                "ON CONFLICT (key) DO UPDATE SET last_used = now()",
                (row_key,),
            )
        return row is None or expired

    def _sweep(self) -> None:
        """Drop expired conversations and the least recently used beyond the bound."""
        now = time.monotonic()
        if now - self._swept < SWEEP_EVERY_S:
            return
        self._swept = now
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                "DELETE FROM vaults WHERE last_used < now() - make_interval(secs => %s)",
                (self.ttl,),
            )
            conn.execute(
                "DELETE FROM vaults WHERE key IN (SELECT key FROM vaults "
                "ORDER BY last_used DESC OFFSET %s)",
                (self.max_conversations,),
            )

    def close(self) -> None:
        with self._lock:
            self.use.close()
            self._migrated = False
