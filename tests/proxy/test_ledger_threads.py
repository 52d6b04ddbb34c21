"""The threads that make ledger appends for the event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest
from cogate.proxy.egress.ledger_threads import LedgerThreads

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_results_and_errors_come_back_as_if_called_on_the_loop() -> None:
    threads = LedgerThreads(size=2)
    caller = threading.get_ident()
    assert await threads.run(lambda x: (x * 2, threading.get_ident() != caller), 21) == (42, True)

    def broken(_: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        await threads.run(broken, None)
    threads.close()


async def test_concurrent_calls_run_at_once_so_group_commit_can_gather_them() -> None:
    threads = LedgerThreads(size=4)
    all_in = threading.Barrier(4, timeout=5)  # breaks unless four calls run together
    results = await asyncio.gather(
        *(threads.run(lambda n: all_in.wait() * 0 + n, n) for n in range(4))
    )
    assert results == [0, 1, 2, 3]
    threads.close()


async def test_a_cancelled_caller_stops_waiting_and_the_threads_go_on() -> None:
    threads = LedgerThreads(size=1)
    release, finished = threading.Event(), threading.Event()

    def slow(_: object) -> str:
        release.wait(5)
        finished.set()
        return "written"

    task = asyncio.ensure_future(threads.run(slow, None))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    assert await threads.run(lambda x: x, "next") == "next"
    assert finished.is_set()  # the cancelled call still ran to its end
    threads.close()
    assert await threads.run(lambda x: x, "after close") == "after close"
    threads.close()
