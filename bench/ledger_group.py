"""Group commit in the SQLite ledger: egress append latency under concurrent requests.

N threads (the gateway's worker threads under N concurrent requests) each append egress
entries to one on-disk SQLite ledger (synchronous=FULL), once with one transaction and fsync
per entry and once with group commit (concurrent appends share a transaction); both in the
same run, alternated. Each caller returns only after its own entry is durable in both modes.

Run: .venv/bin/python bench/ledger_group.py [--threads 1,4,8] [--appends 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from cogate.audit.ledger import SQLiteLedger
from ledger import pct, record  # the sibling bench: scripts run as `python bench/NAME.py`


def run(root: Path, threads: int, appends: int, group: bool) -> tuple[list[float], int, float]:
    ledger = SQLiteLedger(root, checkpoint_every=256, background=False, group_commit=group)
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        mine = []
        for i in range(appends):
            t0 = time.perf_counter()
            ledger.append_egress(record(index * appends + i))
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    commits = ledger.commits
    ledger.close()
    return latencies, commits, threads * appends / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,4,8")
    parser.add_argument("--appends", type=int, default=200, help="per thread")
    args = parser.parse_args()
    print("| threads | group commit | appends | commits | appends/s | p50 | p99 |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="cogate-bench-") as tmp:
        for threads in (int(t) for t in args.threads.split(",")):
            for group in (False, True):
                root = Path(tmp) / f"{threads}-{group}"
                lat, commits, rate = run(root, threads, args.appends, group)
                print(
                    f"| {threads} | {'on' if group else 'off'} | {len(lat)} | {commits} | "
                    f"{rate:.0f} | {statistics.median(lat):.2f} ms | {pct(lat, 0.99):.2f} ms |"
                )


if __name__ == "__main__":
    main()
