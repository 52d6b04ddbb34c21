"""A few threads that make ledger appends for the event loop: a cheaper hop than anyio's.

`anyio.to_thread.run_sync` takes a capacity limiter, opens a cancel scope and wakes a
worker per call; for a ledger append that the request waits on, that is tens of
microseconds of the loop's time each way (bench/egress_hop.py). Here the loop puts the call
on a queue that a few long-lived threads read, and each answer comes back through one
`call_soon_threadsafe`. Several threads, so concurrent appends still meet in the ledger's
group commit.

A request cancelled while its append runs stops waiting at once; the append itself goes on
to the end in its thread (the entry may be written), and the request sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[Any], Any], Any]


class LedgerThreads:
    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._calls: queue.SimpleQueue[Call | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def run(self, fn: Callable[[Any], T], arg: Any) -> T:
        """`fn(arg)` in one of the threads; its result or exception, as if called here."""
        if len(self._threads) < self.size:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, fn, arg))
        return await future

    def _start(self) -> None:
        with self._lock:
            while len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name="cogate-ledger-append", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            loop, future, fn, arg = call
            try:
                result, error = fn(arg), None
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                result, error = None, exc
            # A closed loop raises RuntimeError: nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, result, error)

    def close(self) -> None:
        """End the threads once every call queued before this one has run."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._calls.put(None)
        for thread in threads:
            thread.join(timeout=10)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return  # the request was cancelled meanwhile
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
