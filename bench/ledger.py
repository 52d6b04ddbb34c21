"""Audit ledger benchmark: append latency with synchronous=FULL, and verify time at 100k.

Prints figures; it asserts nothing. Targets (issue 4): append adds <= 3 ms p50 to a request;
verifying 100,000 entries takes < 10 s.

    .venv/bin/python bench/ledger.py [--appends 2000] [--verify-entries 100000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cogate.audit import review
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.records import CompletionRecord, EgressRecord

BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are helpful."},'
    b'{"role":"user","content":"' + b"Please summarise the note from <PERSON_1>. " * 20 + b'"}]}'
)


def record(i: int) -> EgressRecord:
    return EgressRecord(
        exchange_id=f"bench-{i}",
        app="bench",
        destination_host="api.openai.com",
        destination_path="/v1/chat/completions",
        method="POST",
        model="gpt-4o-mini",
        mode="redact",
        policy_id="default",
        policy_hash="sha256:" + "ab" * 32,
        entity_counts={"PERSON": 2, "EMAIL_ADDRESS": 1},
        removed_values=[("PERSON", f"Person {i}"), ("EMAIL_ADDRESS", f"p{i}@example.org")],
        body=BODY,
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_appends(root: Path, n: int) -> None:
    ledger = SQLiteLedger(root / "append", checkpoint_every=256, background=False)
    mode = ledger.store.db.execute("PRAGMA synchronous").fetchone()[0]
    egress_ms, completion_ms = [], []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        audit_id = ledger.append_egress(record(i))
        t1 = time.perf_counter()
        ledger.append_completion(
            CompletionRecord(audit_id, f"bench-{i}", 200, "ok", {"upstream_ms": 100.0})
        )
        t2 = time.perf_counter()
        egress_ms.append((t1 - t0) * 1000)
        completion_ms.append((t2 - t1) * 1000)
    elapsed = time.perf_counter() - start
    ledger.close()
    print(f"appends (synchronous={mode}, FULL=2, body {len(BODY)} bytes, checkpoint every 256):")
    print(f"  {2 * n} entries in {elapsed:.2f} s = {2 * n / elapsed:.0f} appends/s")
    for name, values in [("egress", egress_ms), ("completion", completion_ms)]:
        print(
            f"  {name:10} p50 {statistics.median(values):.3f} ms  p99 {pct(values, 0.99):.3f} ms"
            f"  max {max(values):.3f} ms"
        )
    p50 = statistics.median(egress_ms)
    print(f"  target: egress p50 <= 3 ms -> {p50:.3f} ms ({p50 / 3:.2f}x of budget)")


def bench_verify(root: Path, n: int) -> None:
    data = root / "verify"
    ledger = SQLiteLedger(data, checkpoint_every=256, background=False)
    # Building the ledger is not what is measured: skip fsync while filling it.
    ledger.store.db.execute("PRAGMA synchronous = OFF")
    t0 = time.perf_counter()
    i = 0
    while i < n:
        audit_id = ledger.append_egress(record(i))
        i += 1
        if i < n:
            ledger.append_completion(CompletionRecord(audit_id, f"bench-{i}", 200, "ok", {}))
            i += 1
    ledger.close()
    built = time.perf_counter() - t0
    size_mb = sum(p.stat().st_size for p in (data / "audit").iterdir()) / 1e6
    t0 = time.perf_counter()
    report = review.verify_data_dir(data, update_state=False)
    took = time.perf_counter() - t0
    print(f"verify ({n} entries, {report.checkpoints} checkpoints, {size_mb:.0f} MB on disk):")
    print(f"  built in {built:.1f} s; verified in {took:.2f} s ({n / took:.0f} entries/s)")
    print(f"  status {report.status}; target < 10 s -> {took / 10:.2f}x of budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--verify-entries", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cogate-bench-") as tmp:
        bench_appends(Path(tmp), args.appends)
        bench_verify(Path(tmp), args.verify_entries)


if __name__ == "__main__":
    main()
