"""Completion entries go to the ledger from a background thread; drain waits for them."""

from __future__ import annotations

import logging
import threading

import anyio
from cogate.audit.records import CompletionRecord
from cogate.proxy.egress.completion_writer import CompletionWriter
from cogate.proxy.metrics import Metrics

from .doubles import ListLedger


def record(i: int) -> CompletionRecord:
    return CompletionRecord(egress_id=str(i), exchange_id=f"ex-{i}", status=200, outcome="ok")


def test_drain_returns_once_every_entry_is_written_in_order():
    ledger = ListLedger()
    writer = CompletionWriter(ledger, Metrics())

    threads: list[threading.Thread] = []

    async def main() -> None:
        for i in range(1, 51):
            writer.put(record(i))
        threads.append(writer._thread)
        await writer.drain()
        assert [c.egress_id for c in ledger.completions] == [str(i) for i in range(1, 51)]
        writer.put(record(51))  # after a drain the writer starts again
        threads.append(writer._thread)
        await writer.drain()

    anyio.run(main)
    assert len(ledger.completions) == 51
    assert len(set(threads)) == 2 and not any(t.is_alive() for t in threads)


def test_a_failed_completion_is_logged_by_type_and_the_writer_goes_on(caplog):
    ledger = ListLedger()
    ledger.fail = True
    writer = CompletionWriter(ledger, Metrics())

    async def main() -> None:
        writer.put(record(1))
        await writer.drain()
        ledger.fail = False
        writer.put(record(2))
        await writer.drain()

    with caplog.at_level(logging.ERROR, logger="cogate.egress"):
        anyio.run(main)
    assert [c.egress_id for c in ledger.completions] == ["2"]
    assert "audit id 1 could not be written (OSError)" in caplog.text
    assert "disk full" not in caplog.text
