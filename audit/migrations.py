"""Schema changes as an append-only list of named functions, recorded in `_migrations`.

Never edit or reorder a shipped migration: add a new one at the end. A test migrates a
database created by the first migration alone forward through all the others.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


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
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('ledger_id', ?), ('created', ?)",
        (secrets.token_hex(16), datetime.now(UTC).isoformat()),
    )


@migration
def m002_query_columns(db: sqlite3.Connection) -> None:
    # Virtual columns derived from `entry`: filters get indexes, yet can never disagree with
    # the hashed bytes (there is nothing separate to tamper with).
    for name, path in [
        ("kind", "$.kind"),
        ("time", "$.time"),
        ("app", "$.app"),
        ("host", "$.destination.host"),
        ("mode", "$.mode"),
        ("egress", "$.egress"),
    ]:
        db.execute(
            f"ALTER TABLE entries ADD COLUMN {name} "
            f"GENERATED ALWAYS AS (json_extract(entry, '{path}')) VIRTUAL"
        )
    db.execute("CREATE INDEX entries_time ON entries (time)")
    db.execute("CREATE INDEX entries_egress ON entries (egress) WHERE egress IS NOT NULL")


@migration
def m003_tokens(db: sqlite3.Connection) -> None:
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
        for fn in todo:
            if fn.__name__ in done:
                continue
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (fn.__name__, datetime.now(UTC).isoformat()),
            )
            ran.append(fn.__name__)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return ran
