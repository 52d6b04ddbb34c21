"""Gateway identities: named access tokens, stored as hashes, bound to app names.

`TokenStore` is the narrow interface the gateway and `cogate tokens` use (add, list, revoke,
lookup by hash); `SQLiteTokens` keeps them in the ledger's database (owner-only), and
`PostgresTokens` (audit/pg_tokens.py) in the replicas' shared database. `backends.open_tokens`
picks one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from .migrations import migrate

TOKEN_PREFIX = "cgt_"
HASH_PREFIX = "sha256:"
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,47}$")
APP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class TokenError(ValueError):
    """A token request that cannot be carried out; the message names the fix."""


@dataclass(frozen=True)
class Identity:
    """Who a valid token belongs to and which app routes it may use."""

    name: str
    apps: tuple[str, ...] = ()
    created: str = ""
    revoked: str | None = None


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is not brute-forceable.
    return HASH_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def identity_id(name: str, digest: str) -> str:
    """The identity one issuance of a token stands for: its name and a mark derived from the
    token's hash, so a name revoked and added again is a new identity (its vaults, chains and
    stored ids are not the old holder's). Letters only after the colon: the id is a label
    that logs and the ledger show, and digits could read as a number to the detectors."""
    mark = hashlib.sha256(b"cogate identity|" + digest.encode()).hexdigest()[:12]
    return f"{name}:" + mark.translate(_LETTERS)


_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise TokenError(
            f"token name {name[:60]!r} is not allowed: use 1-48 lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (a role, not a person's name)"
        )
    return name


def check_app(app: str) -> str:
    if not APP.fullmatch(app):
        raise TokenError(
            f"app name {app[:60]!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-'"
        )
    return app


def new_token(name: str, apps: tuple[str, ...]) -> tuple[tuple[str, ...], str, str]:
    """Checked apps, a fresh token and its creation time, for a store's `add`."""
    check_name(name)
    checked = tuple(sorted({check_app(a) for a in apps}))
    return checked, TOKEN_PREFIX + secrets.token_urlsafe(32), datetime.now(UTC).isoformat()


def active_exists(name: str) -> TokenError:
    return TokenError(
        f"an active token named {name!r} exists; revoke it first "
        f"(`cogate tokens revoke {name}`) or choose another name"
    )


class TokenStore(Protocol):
    def add(self, name: str, apps: tuple[str, ...]) -> str:
        """Create an identity; returns its new token (the only time it is seen)."""
        ...

    def list(self) -> list[Identity]: ...

    def revoke(self, name: str) -> bool:
        """Revoke an identity's token; False when no active token has that name."""
        ...

    def lookup_by_hash(self, digest: str) -> Identity | None:
        """The active identity whose token hashes to `digest`."""
        ...

    def any_issued(self) -> bool:
        """Whether a token was ever issued (revoked ones count: the gateway stays shared)."""
        ...

    def reset(self) -> int:
        """Forget every token, active and revoked (personal mode again); how many there were."""
        ...

    def close(self) -> None: ...


class SQLiteTokens:
    """Tokens in the ledger's SQLite database (a named migration creates the table)."""

    def __init__(self, path: Path, *, busy_ms: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=busy_ms / 1000
        )
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        migrate(self.db)

    def add(self, name: str, apps: tuple[str, ...]) -> str:
        apps, token, now = new_token(name, apps)
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                row = self.db.execute(
                    "SELECT revoked FROM tokens WHERE name = ?", (name,)
                ).fetchone()
                if row is not None and row[0] is None:
                    raise active_exists(name)
                self.db.execute("DELETE FROM tokens WHERE name = ?", (name,))
                self.db.execute(
                    "INSERT INTO tokens (name, token_hash, apps, created) VALUES (?, ?, ?, ?)",
                    (name, token_hash(token), json.dumps(list(apps)), now),
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return token

    def list(self) -> list[Identity]:
        with self._lock:
            rows = self.db.execute(
                "SELECT name, apps, created, revoked FROM tokens ORDER BY name"
            ).fetchall()
        return [Identity(n, tuple(json.loads(a)), c, r) for n, a, c, r in rows]

    def revoke(self, name: str) -> bool:
        now = datetime.now(UTC).isoformat()
        with self._lock:
            cursor = self.db.execute(
                "UPDATE tokens SET revoked = ? WHERE name = ? AND revoked IS NULL", (now, name)
            )
        return cursor.rowcount > 0

    def lookup_by_hash(self, digest: str) -> Identity | None:
        with self._lock:
            row = self.db.execute(
                "SELECT name, apps, created FROM tokens WHERE token_hash = ? AND revoked IS NULL",
                (digest,),
            ).fetchone()
        return Identity(row[0], tuple(json.loads(row[1])), row[2]) if row else None

    def any_issued(self) -> bool:
        with self._lock:
            row = self.db.execute("SELECT 1 FROM tokens LIMIT 1").fetchone()
        return row is not None

    def reset(self) -> int:
        with self._lock:
            return self.db.execute("DELETE FROM tokens").rowcount

    def close(self) -> None:
        with self._lock:
            self.db.close()
