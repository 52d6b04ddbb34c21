"""Completion entries written by one background thread, so a request never waits for them.

The completion entry records what already happened (the answer is on its way to the app),
so the event loop hands the record over and goes on: no worker-thread hop to await, no wake
of the loop when the entry is in. The thread starts on first use and stops at `drain`, which
returns once every entry handed over has been written (or its failure logged).
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import anyio
from cogate.audit.records import CompletionRecord, Ledger
from cogate.proxy.metrics import Metrics

log = logging.getLogger("cogate.egress")

_STOP = None  # the sentinel that ends a writer thread once everything before it is written


class CompletionWriter:
    def __init__(self, ledger: Ledger, metrics: Metrics) -> None:
        self.ledger = ledger
        self.metrics = metrics
        self._queue: queue.SimpleQueue[CompletionRecord | None] | None = None
        self._thread: threading.Thread | None = None

    def put(self, record: CompletionRecord) -> None:
        """Write `record` soon, in the writer thread (started here when none runs)."""
        if self._queue is None or self._thread is None:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(
                target=self._run, args=(self._queue,), name="cogate-completions", daemon=True
            )
            self._thread.start()
        self._queue.put(record)

    async def drain(self) -> None:
        """Wait until every record handed over so far is written; the thread ends."""
        # An answer's completion is handed over on the loop's next turn (once the runner
        # has restored the answer): let that turn run first.
        await anyio.sleep(0)
        pending, thread = self._queue, self._thread
        self._queue = self._thread = None  # a record put from now on starts a new thread
        if pending is None or thread is None:
            return
        pending.put(_STOP)
        await anyio.to_thread.run_sync(thread.join)

    def _run(self, pending: queue.SimpleQueue[CompletionRecord | None]) -> None:
        while (record := pending.get()) is not _STOP:
            start = time.perf_counter()
            try:
                self.ledger.append_completion(record)
            except Exception as exc:  # noqa: BLE001 - the bytes already left; logged, not raised
                # The egress entry stands and reads "outcome unknown".
                log.error(
                    "completion entry for audit id %s could not be written (%s)",
                    record.egress_id,
                    type(exc).__name__,
                )
                continue
            self.metrics.append_latency(time.perf_counter() - start)
