"""What the hop to a thread costs a write-ahead ledger append, measured three ways in one run.

Appends egress entries to the real SQLite ledger (on the work disk, and on /dev/shm) from a
uvloop event loop: through `anyio.to_thread.run_sync` (as before), through the gateway's
ledger threads (`proxy/egress/ledger_threads.py`), and inline on the loop (a variant tried on
tmpfs). Interleaved; one caller at a time, then 8 at once. Prints p50/p99 per append.

Run: .venv/bin/python bench/egress_hop.py [--appends N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import uvloop
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.records import EgressRecord
from cogate.proxy.egress.ledger_threads import LedgerThreads

BODY = b'{"model":"bench","messages":[{"role":"user","content":"Say ok."}]}'


def record() -> EgressRecord:
    return EgressRecord(
        exchange_id="bench",
        app="default",
        destination_host="127.0.0.1",
        destination_path="/v1/chat/completions",
        method="POST",
        model="bench",
        mode="passthrough",
        policy_id="p",
        policy_hash="h",
        entity_counts={},
        body=BODY,
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


Hop = Callable[[Callable[[Any], Any], Any], Awaitable[Any]]


async def inline(fn: Callable[[Any], Any], arg: Any) -> Any:
    return fn(arg)


async def timed(hop: Hop, ledger: SQLiteLedger, callers: int) -> list[float]:
    async def one() -> float:
        start = time.perf_counter()
        await hop(ledger.append_egress, record())
        return (time.perf_counter() - start) * 1000

    return list(await asyncio.gather(*(one() for _ in range(callers))))


async def run(args: argparse.Namespace, dirs: dict[str, Path]) -> None:
    threads = LedgerThreads()
    hops: dict[str, Hop] = {
        "anyio.to_thread": anyio.to_thread.run_sync,
        "ledger threads": threads.run,
        "inline": inline,
    }
    ledgers = {name: SQLiteLedger(d, group_commit=True) for name, d in dirs.items()}
    figures: dict[tuple[str, str, int], list[float]] = {}
    for callers in (1, 8):
        for _ in range(args.appends // callers):
            for where, ledger in ledgers.items():
                for name, hop in hops.items():
                    if name == "inline" and where == "disk":
                        continue  # an fsync on the loop: not an option
                    key = (where, name, callers)
                    figures.setdefault(key, []).extend(await timed(hop, ledger, callers))
    threads.close()
    for ledger in ledgers.values():
        ledger.close()
    print("| ledger | hop | callers | p50 | p99 |")
    print("|---|---|---|---|---|")
    for (where, name, callers), values in figures.items():
        p50, p99 = pct(values, 0.5), pct(values, 0.99)
        print(f"| {where} | {name} | {callers} | {p50:.3f} ms | {p99:.3f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=800)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with (
        tempfile.TemporaryDirectory(dir=Path(__file__).parent) as disk,
        tempfile.TemporaryDirectory(dir="/dev/shm") as shm,
    ):
        uvloop.run(run(args, {"disk": Path(disk), "tmpfs": Path(shm)}))


if __name__ == "__main__":
    main()
