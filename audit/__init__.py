"""The audit ledger: a tamper-evident record of everything that left the device.

`open_ledger(settings)` is what the gateway writes through; `cogate audit` reviews it.
"""

from __future__ import annotations

from .backends import open_ledger
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
