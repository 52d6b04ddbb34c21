"""Where the ledger and the gateway's tokens live, chosen once from the settings: SQLite under
the data dir for one gateway, PostgreSQL when replicas share a database.

Every caller that opens a store comes here: the gateway (sharing one `Database` pool between
the ledger, the tokens and the vaults), `cogate audit` and `cogate tokens`.
"""

from __future__ import annotations

from pathlib import Path

from cogate.core.database import Database
from cogate.core.settings import Settings

from .ledger import ChainLedger, SQLiteLedger
from .paths import LedgerPaths
from .store import LedgerStore, SQLiteStore
from .tokens import SQLiteTokens, TokenStore


class NoLedger(FileNotFoundError):
    pass


def open_ledger(settings: Settings, database: Database | None = None) -> ChainLedger:
    """The ledger the gateway writes: PostgreSQL when `settings.database_url` is set (one
    chain shared by every replica), else SQLite under `settings.data_dir`. Group commit is on
    for both: concurrent requests share one durable commit (bench/ledger_group.py)."""
    every, seconds = settings.checkpoint_every, settings.checkpoint_seconds
    if settings.database_url:
        from .pg_store import PostgresStore

        return ChainLedger(
            PostgresStore(database or settings.database_url),
            settings.data_dir,
            checkpoint_every=every,
            checkpoint_seconds=seconds,
            group_commit=True,
            retention_days=settings.retention_days,
        )
    return SQLiteLedger(
        settings.data_dir,
        checkpoint_every=every,
        checkpoint_seconds=seconds,
        group_commit=True,
        retention_days=settings.retention_days,
    )


def open_writer(data_dir: Path, database_url: str | None) -> ChainLedger:
    """A ledger for one CLI command (export, prune): appends commit at once, no thread."""
    if database_url:
        from .pg_store import PostgresStore

        return ChainLedger(PostgresStore(database_url), data_dir, background=False)
    return SQLiteLedger(data_dir, background=False)


def open_store(data_dir: Path, database_url: str | None = None) -> LedgerStore:
    """The ledger's store for reading: PostgreSQL when a database URL is given, else the data
    dir's SQLite; never creates a ledger."""
    if database_url:
        from .pg_store import PostgresStore

        return PostgresStore(database_url, create=False)
    paths = LedgerPaths(data_dir)
    if not paths.db.exists():
        raise NoLedger(
            f"no audit ledger in {data_dir}; run `cogate serve --data-dir {data_dir}` first, "
            "or pass the --data-dir the gateway uses"
        )
    return SQLiteStore(paths.db, create=False)


def open_tokens(
    data_dir: Path, database_url: str | None = None, database: Database | None = None
) -> TokenStore:
    """The replicas' shared tokens when `database_url` is set, else the data dir's (beside
    the ledger it shares a database with)."""
    if database_url:
        from .pg_tokens import PostgresTokens  # psycopg is loaded only for shared deployments

        return PostgresTokens(database or database_url)
    return SQLiteTokens(LedgerPaths(data_dir).db)
