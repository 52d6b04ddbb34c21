"""The audit ledger: a tamper-evident record of everything that left the device.

`open_ledger(settings)` is what the gateway writes through; `cogate audit` reviews it.
"""

from __future__ import annotations

from cogate.core.settings import Settings

from .ledger import ChainLedger, SQLiteLedger
from .records import CompletionRecord, EgressRecord, Ledger

__all__ = [
    "ChainLedger",
    "CompletionRecord",
    "EgressRecord",
    "Ledger",
    "SQLiteLedger",
    "open_ledger",
]


def open_ledger(settings: Settings) -> ChainLedger:
    """The ledger the gateway writes: PostgreSQL when `settings.database_url` is set (one
    chain shared by every replica), else SQLite under `settings.data_dir`. Group commit is on
    for both: concurrent requests share one durable commit (bench/ledger_group.py)."""
    every, seconds = settings.checkpoint_every, settings.checkpoint_seconds
    if settings.database_url:
        from .pg_store import PostgresStore

        return ChainLedger(
            PostgresStore(settings.database_url),
            settings.data_dir,
            checkpoint_every=every,
            checkpoint_seconds=seconds,
            group_commit=True,
        )
    return SQLiteLedger(
        settings.data_dir, checkpoint_every=every, checkpoint_seconds=seconds, group_commit=True
    )
