"""Team deployment benchmark on a real PostgreSQL server started for the run: ledger appends
per second and p50/p99 with 1, 8 and 50 concurrent writers (group commit on and off), verify
time for 100,000 entries (SQLite measured alongside), and requests/s of two `cogate serve`
replicas against one on the same database.

Prints figures; it asserts nothing.

    .venv/bin/python bench/pg_team.py [--appends 1000] [--verify-entries 100000] [--requests 400]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo's tests package

import fast_upstream  # noqa: E402 - the sibling module
from cogate.audit import review  # noqa: E402
from cogate.audit.ledger import ChainLedger, SQLiteLedger, _Pending  # noqa: E402
from cogate.audit.pg_store import PostgresStore  # noqa: E402
from cogate.proxy.servers import cogate_server  # noqa: E402
from ledger import pct, record  # noqa: E402 - bench/ledger.py's record and percentile

from tests.pgserver import fresh_database, postgres_server  # noqa: E402


def appends(server: str, work: Path, writers: int, total: int, group: bool) -> str:
    url = fresh_database(server)
    ledger = ChainLedger(
        PostgresStore(url), work / f"a-{writers}-{group}", background=False, group_commit=group
    )
    per = max(1, total // writers)
    latencies: list[float] = []
    start_line = threading.Barrier(writers + 1)

    def writer(w: int) -> None:
        start_line.wait()
        for i in range(per):
            t0 = time.perf_counter()
            ledger.append_egress(record(w * per + i))
            latencies.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    start_line.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    commits = ledger.commits
    ledger.close()
    n = len(latencies)
    return (
        f"| {writers} | {'on' if group else 'off'} | {n} | {n / elapsed:,.0f} | "
        f"{pct(latencies, 0.5):.2f} ms | {pct(latencies, 0.99):.2f} ms | {commits} |"
    )


def fill(ledger: ChainLedger, n: int, batch: int = 1000) -> None:
    # The ledger's own batch path (as group commit uses), in large batches to fill fast.
    for start in range(0, n, batch):
        pending = [_Pending(*_fields(ledger, i)) for i in range(start, min(n, start + batch))]
        ledger._commit(pending)
        if pending[0].error:
            raise pending[0].error
    ledger.checkpoint()


def _fields(ledger: ChainLedger, i: int):
    from cogate.audit.entries import egress_fields

    return egress_fields(record(i), ledger._hmac)


def verify_time(server: str, work: Path, n: int) -> list[str]:
    rows = []
    url = fresh_database(server)
    for name, make, db_url in [
        ("PostgreSQL", lambda d: ChainLedger(PostgresStore(url), d, background=False), url),
        ("SQLite", lambda d: SQLiteLedger(d, background=False), None),
    ]:
        data = work / f"verify-{name}"
        ledger = make(data)
        t0 = time.perf_counter()
        fill(ledger, n)
        filled = time.perf_counter() - t0
        ledger.close()
        t0 = time.perf_counter()
        report = review.verify_data_dir(data, update_state=False, database_url=db_url)
        took = time.perf_counter() - t0
        rows.append(
            f"| {name} | {report.size:,} | {report.status} | {took:.1f} s | {filled:.1f} s |"
        )
    return rows


def throughput(bases: list[str], n: int, clients: int = 16) -> float:
    todo = list(range(n))
    lock = threading.Lock()
    failures = []

    def client() -> None:
        with httpx.Client(timeout=60, trust_env=False) as http:
            while True:
                with lock:
                    if not todo:
                        return
                    i = todo.pop()
                r = http.post(
                    f"{bases[i % len(bases)]}/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": f"hi {i}"}]},
                )
                if r.status_code != 200:
                    failures.append(r.status_code)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: {failures[:5]}")
    return n / (time.perf_counter() - t0)


def replicas(server: str, work: Path, n: int) -> list[str]:
    url = fresh_database(server)
    with fast_upstream.running(work) as upstream:
        policy = work / "passthrough.yaml"
        policy.write_text("mode: passthrough\n")
        flags = ["--policy", str(policy), "--database-url", url]
        data = work / "replica-data"
        with (
            cogate_server(work, upstream, args=flags, data_dir=data) as a,
            cogate_server(work, upstream, args=flags, data_dir=data) as b,
        ):
            throughput([a, b], 50)  # warm both
            one = throughput([a], n)
            two = throughput([a, b], n)
            one_again = throughput([a], n)
    return [
        f"| one replica | {one:,.0f} | |",
        f"| two replicas | {two:,.0f} | {two / ((one + one_again) / 2):.2f}x |",
        f"| one replica (again) | {one_again:,.0f} | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--verify-entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as server:
        work = Path(tmp)
        print("| writers | group commit | appends | appends/s | p50 | p99 | commits |")
        print("|---|---|---|---|---|---|---|")
        for writers in (1, 8, 50):
            for group in (False, True):
                print(appends(server, work, writers, args.appends, group), flush=True)
        print("\n| store | entries | result | verify time | fill time |")
        print("|---|---|---|---|---|")
        for row in verify_time(server, work, args.verify_entries):
            print(row, flush=True)
        print(f"\n| gateways ({args.requests} requests, 16 clients) | requests/s | vs one |")
        print("|---|---|---|")
        for row in replicas(server, work, args.requests):
            print(row, flush=True)


if __name__ == "__main__":
    main()
