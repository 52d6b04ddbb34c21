"""The audit ledger: a tamper-evident record of everything that left the device.

`open_ledger(settings)` is what the gateway writes through; `cogate audit` reviews it.
"""

from __future__ import annotations

from cogate.core.settings import Settings

from .ledger import SQLiteLedger
from .records import CompletionRecord, EgressRecord, Ledger

__all__ = ["CompletionRecord", "EgressRecord", "Ledger", "SQLiteLedger", "open_ledger"]


def open_ledger(settings: Settings) -> SQLiteLedger:
    """The ledger under `settings.data_dir`, with its checkpoint cadence."""
    return SQLiteLedger(
        settings.data_dir,
        checkpoint_every=settings.checkpoint_every,
        checkpoint_seconds=settings.checkpoint_seconds,
    )
