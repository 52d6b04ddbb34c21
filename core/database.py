"""One PostgreSQL database's connection pool per process, shared by the ledger, the tokens
and the pseudonym vaults of a shared deployment.

The composition root opens a `Database` once and hands it to each store; a store opened on
its own (a CLI command) opens and owns one. Errors name the database without its password.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from psycopg_pool import ConnectionPool

CONNECT_TIMEOUT_S = 15.0


def redact_url(url: str) -> str:
    """The URL without its password, for status output and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


class Database:
    """A pool of autocommit connections to one database, connected on first use."""

    def __init__(self, url: str, *, max_size: int = 16, purpose: str = "shared") -> None:
        self.url = url
        self.where = redact_url(url)
        self.max_size = max_size
        self.purpose = purpose
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = self._connect()
            return self._pool

    def _connect(self) -> ConnectionPool:
        pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.max_size,
            kwargs={"autocommit": True},
            open=False,
            name=f"cogate-{self.purpose}",
        )
        try:
            pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except Exception as exc:
            pool.close()
            # psycopg's own message can quote the URL with its password.
            raise ConnectionError(
                f"cannot connect to the {self.purpose} database {self.where} "
                f"({type(exc).__name__}); check that PostgreSQL runs there and the URL's user, "
                "host, port and database name (postgresql://USER@HOST:PORT/DB)"
            ) from None
        return pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


class DatabaseUse:
    """A store's hold on a database: shared (the caller closes it) or its own."""

    def __init__(self, database: Database | str, purpose: str, max_size: int) -> None:
        self.owned = isinstance(database, str)
        self.database = (
            Database(database, max_size=max_size, purpose=purpose)
            if isinstance(database, str)
            else database
        )

    @property
    def pool(self) -> ConnectionPool:
        return self.database.pool

    def close(self) -> None:
        if self.owned:
            self.database.close()


def apply_migrations(
    conn: Any, lock: int, table: str, steps: Sequence[tuple[str, Callable[[Any], None]]]
) -> list[str]:
    """Apply the named steps not yet recorded in `table`, in one transaction; the names
    applied.

    A transaction-scoped advisory lock makes replicas that start together take turns: the
    first applies everything, the others then find nothing left to do. DDL is transactional
    in PostgreSQL, so a replica killed half-way leaves the schema as it was.
    """
    ran: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {r[0] for r in conn.execute(f"SELECT name FROM {table}")}
        for name, step in steps:
            if name in done:
                continue
            step(conn)
            conn.execute(
                f"INSERT INTO {table} (name, applied_at) VALUES (%s, %s)",
                (name, datetime.now(UTC).isoformat()),
            )
            ran.append(name)
    return ran
