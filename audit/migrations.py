"""Schema changes as one append-only list of named migrations, recorded in `_migrations`.

Each migration has a SQLite body and, where the dialect differs, a PostgreSQL body: one list,
two dialects, so both stores always agree on which schema they are at. Never edit or
reorder a shipped migration: add a new one at the end. A test migrates a SQLite database
created by the first migration alone forward through all the others.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cogate.core.database import apply_migrations

SQLiteStep = Callable[[sqlite3.Connection], None]
PostgresStep = Callable[[Any], None]  # a psycopg connection inside a transaction


class Migration:
    """A named schema step; callable on a SQLite connection, `.postgres` for PostgreSQL."""

    def __init__(self, fn: SQLiteStep) -> None:
        self.__name__ = fn.__name__
        self.sqlite = fn
        self.postgres_step: PostgresStep | None = None

    def __call__(self, db: sqlite3.Connection) -> None:
        self.sqlite(db)

    def postgres(self, fn: PostgresStep) -> PostgresStep:
        """Register the PostgreSQL body of this migration (decorator)."""
        self.postgres_step = fn
        return fn


MIGRATIONS: list[Migration] = []


def migration(fn: SQLiteStep) -> Migration:
    step = Migration(fn)
    MIGRATIONS.append(step)
    return step


def _identity() -> tuple[str, str]:
    return secrets.token_hex(16), datetime.now(UTC).isoformat()


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # `entry` holds the exact canonical bytes that were hashed: the single source of truth.
    # `body` is the sanitized body that left; it may be pruned because `entry` keeps its hash.
    db.execute(
        """CREATE TABLE entries (
            seq INTEGER PRIMARY KEY,
            entry TEXT NOT NULL,
            hash TEXT NOT NULL,
            body BLOB
        )"""
    )
    db.execute("CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, checkpoint TEXT NOT NULL)")
    # The Merkle frontier after the last entry, so an append never reads old leaves.
    db.execute(
        """CREATE TABLE frontier (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            size INTEGER NOT NULL,
            nodes TEXT NOT NULL
        )"""
    )
    db.execute("INSERT INTO frontier (id, size, nodes) VALUES (1, 0, '[]')")
    db.execute("INSERT INTO meta (key, value) VALUES ('ledger_id', ?), ('created', ?)", _identity())


@m001_initial.postgres
def _m001_postgres(db: Any) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE entries (seq BIGINT PRIMARY KEY, entry TEXT NOT NULL, "
        "hash TEXT NOT NULL, body BYTEA)"
    )
    db.execute("CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, checkpoint TEXT NOT NULL)")
    # The single frontier row doubles as the sequencer: appends lock it FOR UPDATE.
    db.execute(
        "CREATE TABLE frontier (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "size BIGINT NOT NULL, nodes TEXT NOT NULL)"
    )
    db.execute("INSERT INTO frontier (id, size, nodes) VALUES (1, 0, '[]')")
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('ledger_id', %s), ('created', %s)", _identity()
    )


_QUERY_COLUMNS = [
    ("kind", "$.kind", "kind", "TEXT"),
    ("time", "$.time", "time", "TEXT"),
    ("app", "$.app", "app", "TEXT"),
    ("host", "$.destination.host", "destination,host", "TEXT"),
    ("mode", "$.mode", "mode", "TEXT"),
    ("egress", "$.egress", "egress", "BIGINT"),
]


@migration
def m002_query_columns(db: sqlite3.Connection) -> None:
    # Virtual columns derived from `entry`: filters get indexes, yet can never disagree with
    # the hashed bytes (there is nothing separate to tamper with).
    for name, path, _, _ in _QUERY_COLUMNS:
        db.execute(
            f"ALTER TABLE entries ADD COLUMN {name} "
            f"GENERATED ALWAYS AS (json_extract(entry, '{path}')) VIRTUAL"
        )
    db.execute("CREATE INDEX entries_time ON entries (time)")
    db.execute("CREATE INDEX entries_egress ON entries (egress) WHERE egress IS NOT NULL")


@m002_query_columns.postgres
def _m002_postgres(db: Any) -> None:
    # PostgreSQL has only stored generated columns; still derived, never written by hand.
    for name, _, pg_path, pg_type in _QUERY_COLUMNS:
        expr = f"(entry::jsonb #>> '{{{pg_path}}}')"
        if pg_type != "TEXT":
            expr = f"({expr})::{pg_type}"
        db.execute(
            f"ALTER TABLE entries ADD COLUMN {name} {pg_type} GENERATED ALWAYS AS ({expr}) STORED"
        )
    db.execute("CREATE INDEX entries_time ON entries (time)")
    db.execute("CREATE INDEX entries_egress ON entries (egress) WHERE egress IS NOT NULL")


@migration
def m003_vaults(db: sqlite3.Connection) -> None:
    # The embedded gateway keeps pseudonym vaults in memory: nothing to create in SQLite.
    return None


@m003_vaults.postgres
def _m003_postgres(db: Any) -> None:
    # The vault tables moved to the vaults' own migrations (policies/vault/migrations.py), so
    # a vault opens without the ledger; the name stays so recorded databases agree.
    return None


@migration
def m004_tokens(db: sqlite3.Connection) -> None:
    # Gateway identities: only a hash of each token is kept; a revoked token stays listed.
    db.execute(
        """CREATE TABLE tokens (
            name TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            apps TEXT NOT NULL,
            created TEXT NOT NULL,
            revoked TEXT
        )"""
    )


@m004_tokens.postgres
def _m004_postgres(db: Any) -> None:
    # The same table: identities are shared by every replica on the database.
    m004_tokens.sqlite(db)


@migration
def m005_stored_ids(db: sqlite3.Connection) -> None:
    # The embedded gateway keeps Responses chains in memory: nothing to create in SQLite.
    return None


@m005_stored_ids.postgres
def _m005_postgres(db: Any) -> None:
    # Moved to the vaults' own migrations (policies/vault/migrations.py), as m003.
    return None


_REVIEW_COLUMNS = [
    ("identity", "$.identity", "identity"),
    ("route", "$.route", "route"),
    ("entities", "$.entities", "entities"),
]
# Everything the review page filters, counts and charts on, in one covering index: its menus,
# totals and charts read the index instead of parsing 100,000 entries.
_REVIEW_INDEX = (
    "CREATE INDEX entries_review ON entries "
    "(kind, time, app, host, mode, identity, route, entities)"
)


@migration
def m006_review_columns(db: sqlite3.Connection) -> None:
    # Who sent a request, which policy route applied and the entity counts (JSON text),
    # derived from the hashed entry like m002's columns.
    for name, path, _ in _REVIEW_COLUMNS:
        db.execute(
            f"ALTER TABLE entries ADD COLUMN {name} "
            f"GENERATED ALWAYS AS (json_extract(entry, '{path}')) VIRTUAL"
        )
    db.execute(_REVIEW_INDEX)


@m006_review_columns.postgres
def _m006_postgres(db: Any) -> None:
    for name, _, key in _REVIEW_COLUMNS:
        op = "->" if name == "entities" else "->>"
        expr = (
            f"((entry::jsonb {op} '{key}')::text)" if op == "->" else f"(entry::jsonb ->> '{key}')"
        )
        db.execute(
            f"ALTER TABLE entries ADD COLUMN {name} TEXT GENERATED ALWAYS AS ({expr}) STORED"
        )
    db.execute(_REVIEW_INDEX)


def applied(db: sqlite3.Connection) -> set[str]:
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return {row[0] for row in db.execute("SELECT name FROM _migrations")}


def migrate(db: sqlite3.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations in one write transaction; returns the names applied.

    BEGIN IMMEDIATE makes concurrent gateway processes take turns instead of racing.
    """
    todo = migrations if migrations is not None else MIGRATIONS
    db.execute("BEGIN IMMEDIATE")
    try:
        done = applied(db)
        ran = []
        for step in todo:
            if step.__name__ in done:
                continue
            step(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (step.__name__, datetime.now(UTC).isoformat()),
            )
            ran.append(step.__name__)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return ran


# Any fixed 64-bit number works; all cogate processes on a database agree on it.
MIGRATION_LOCK = 0x636F67617465_01


def migrate_postgres(conn: Any, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations on PostgreSQL in one transaction, advisory-locked so that
    replicas starting together take turns; returns the names applied."""
    todo = migrations if migrations is not None else MIGRATIONS
    for step in todo:
        if step.postgres_step is None:
            raise RuntimeError(f"migration {step.__name__} has no PostgreSQL body")
    steps = [(step.__name__, step.postgres_step) for step in todo if step.postgres_step]
    return apply_migrations(conn, MIGRATION_LOCK, "_migrations", steps)
