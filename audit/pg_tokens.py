"""Gateway identities in PostgreSQL, shared by every replica on the database: a token added
or revoked through any replica's `cogate tokens` holds on all of them from the next request.

Only each token's hash is stored (the m004_tokens table, the same in both dialects).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cogate.core.database import Database, DatabaseUse

from .migrations import migrate_postgres
from .tokens import Identity, active_exists, new_token, token_hash

WAIT_S = 5.0


class PostgresTokens:
    """`TokenStore` on PostgreSQL; opening it applies pending migrations (advisory-locked)."""

    def __init__(self, database: Database | str, *, max_size: int = 4) -> None:
        self.use = DatabaseUse(database, "token", max_size)
        self.where = self.use.database.where
        self.pool = self.use.pool
        with self.pool.connection() as conn:
            migrate_postgres(conn)

    def _all(self, sql: str, args: Any = ()) -> list[tuple[Any, ...]]:
        # Every request waits on this: a lost database refuses within seconds, not 30.
        with self.pool.connection(timeout=WAIT_S) as conn:
            return conn.execute(sql, args).fetchall()

    def add(self, name: str, apps: tuple[str, ...]) -> str:
        apps, token, now = new_token(name, apps)
        # One statement: a revoked name is reused, an active one is left alone (no row back),
        # so two operators adding the same name at once cannot both succeed.
        rows = self._all(
            "INSERT INTO tokens (name, token_hash, apps, created) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash, "
            "apps = EXCLUDED.apps, created = EXCLUDED.created, revoked = NULL "
            "WHERE tokens.revoked IS NOT NULL RETURNING name",
            (name, token_hash(token), json.dumps(list(apps)), now),
        )
        if not rows:
            raise active_exists(name)
        return token

    def list(self) -> list[Identity]:
        rows = self._all("SELECT name, apps, created, revoked FROM tokens ORDER BY name")
        return [Identity(n, tuple(json.loads(a)), c, r) for n, a, c, r in rows]

    def revoke(self, name: str) -> bool:
        rows = self._all(
            "UPDATE tokens SET revoked = %s WHERE name = %s AND revoked IS NULL RETURNING name",
            (datetime.now(UTC).isoformat(), name),
        )
        return bool(rows)

    def lookup_by_hash(self, digest: str) -> Identity | None:
        rows = self._all(
            "SELECT name, apps, created FROM tokens WHERE token_hash = %s AND revoked IS NULL",
            (digest,),
        )
        return Identity(rows[0][0], tuple(json.loads(rows[0][1])), rows[0][2]) if rows else None

    def any_issued(self) -> bool:
        return bool(self._all("SELECT 1 FROM tokens LIMIT 1"))

    def reset(self) -> int:
        return len(self._all("DELETE FROM tokens RETURNING name"))

    def close(self) -> None:
        self.use.close()
