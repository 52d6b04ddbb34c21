"""Audit ledger benchmark: append latency with synchronous=FULL, verify time at 100k, and
what the compliance fields cost (issue 29) against another tree in the same run.

Prints figures; it asserts nothing. Targets: append adds <= 3 ms p50 to a request (issue 4);
verifying 100,000 entries takes < 10 s; the keyed value tags, the review columns and index
and refusals keep append within 1.2x of the tree before them (issue 29).

    .venv/bin/python bench/ledger.py [--appends 2000] [--verify-entries 100000]
    .venv/bin/python bench/ledger.py --before /work/main/.venv/bin/python [--rounds 2]

With --before, each round runs this script's measurement once under that interpreter (which
imports its own tree's cogate) and once under this one, interleaved, and prints the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from cogate.audit import review
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.records import CompletionRecord, EgressRecord

BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are helpful."},'
    b'{"role":"user","content":"' + b"Please summarise the note from <PERSON_1>. " * 20 + b'"}]}'
)
# Fields a newer tree's records carry; an older tree's records simply lack them.
NEWER = {
    "route": "support",
    "surface": "openai.chat",
    "bound_apps": ("bench",),
    "actions": {"PERSON": "pseudonymize", "EMAIL_ADDRESS": "pseudonymize"},
}


def record(i: int, kind: str = "egress") -> EgressRecord:
    known = {f.name for f in fields(EgressRecord)}
    extra: dict[str, Any] = {k: v for k, v in NEWER.items() if k in known}
    if kind == "refusal":
        extra["refusal"] = {"status": 403, "code": "blocked_by_policy"}
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
        body=b"" if kind == "refusal" else BODY,
        kind=kind,
        identity="alice",
        **extra,
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_appends(root: Path, n: int) -> dict[str, Any]:
    ledger = SQLiteLedger(root / "append", checkpoint_every=256, background=False)
    mode = ledger.store.db.execute("PRAGMA synchronous").fetchone()[0]
    # A tree whose records have `refusal` records refused requests as entries too.
    refusals = "refusal" in {f.name for f in fields(EgressRecord)}
    egress_ms, completion_ms, refusal_ms = [], [], []
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
        if refusals and i % 10 == 0:  # one request in ten refused, where the tree records it
            t3 = time.perf_counter()
            ledger.append_egress(record(i, "refusal"))
            refusal_ms.append((time.perf_counter() - t3) * 1000)
    elapsed = time.perf_counter() - start
    entry = ledger.store.get(1)
    ledger.close()
    return {
        "synchronous": mode,
        "entries": 2 * n + len(refusal_ms),
        "seconds": elapsed,
        "egress_p50": statistics.median(egress_ms),
        "egress_p99": pct(egress_ms, 0.99),
        "completion_p50": statistics.median(completion_ms),
        "refusal_p50": statistics.median(refusal_ms) if refusal_ms else None,
        "egress_entry_bytes": len(entry.entry) if entry else 0,
    }


def bench_verify(root: Path, n: int) -> dict[str, Any]:
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
    return {
        "entries": n,
        "checkpoints": report.checkpoints,
        "size_mb": size_mb,
        "built_s": built,
        "verify_s": took,
        "status": report.status,
    }


def measure(appends: int, verify_entries: int, where: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cogate-bench-", dir=where) as tmp:
        return {
            "append": bench_appends(Path(tmp), appends),
            "verify": bench_verify(Path(tmp), verify_entries),
        }


def show(label: str, m: dict[str, Any]) -> None:
    a, v = m["append"], m["verify"]
    refusal = f"  refusal p50 {a['refusal_p50']:.3f} ms" if a["refusal_p50"] else ""
    print(
        f"  {label:7} egress p50 {a['egress_p50']:.3f} ms  p99 {a['egress_p99']:.3f} ms  "
        f"completion p50 {a['completion_p50']:.3f} ms{refusal}  "
        f"egress entry {a['egress_entry_bytes']} bytes"
    )
    print(
        f"  {'':7} verify {v['entries']} entries in {v['verify_s']:.2f} s "
        f"({v['entries'] / v['verify_s']:.0f}/s, {v['status']}); built in {v['built_s']:.1f} s; "
        f"{v['size_mb']:.1f} MB on disk"
    )


def compare(
    before: str, rounds: int, appends: int, verify_entries: int, where: str | None = None
) -> None:
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    args = [__file__, "--json", "--appends", str(appends), "--verify-entries", str(verify_entries)]
    if where:
        args += ["--dir", where]
    for r in range(rounds):
        for label, python in (("before", before), ("after", sys.executable)):
            out = subprocess.run([python, *args], capture_output=True, text=True, check=True)
            runs[label].append(json.loads(out.stdout))
            print(f"round {r + 1} {label}:")
            show(label, runs[label][-1])

    def med(label: str, part: str, key: str) -> float:
        return statistics.median(m[part][key] for m in runs[label])

    print(f"median of {rounds} interleaved rounds (after / before):")
    for part, key, name in [
        ("append", "egress_p50", "egress append p50"),
        ("append", "completion_p50", "completion append p50"),
        ("append", "egress_entry_bytes", "egress entry size"),
        ("verify", "verify_s", f"verify {verify_entries} entries"),
        ("verify", "size_mb", f"ledger size at {verify_entries} entries"),
    ]:
        b, a = med("before", part, key), med("after", part, key)
        print(f"  {name:34} {b:10.3f} -> {a:10.3f}  {a / b:.2f}x")
    print("  target: egress append p50 after <= 1.2x before")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--verify-entries", type=int, default=100_000)
    parser.add_argument("--before", help="Python of the tree to compare with (its venv).")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="One measurement as JSON.")
    parser.add_argument(
        "--dir",
        help="Where the ledgers go (default the temp dir); /dev/shm (tmpfs) leaves out the "
        "disk flush, so the append figures are the ledger's own CPU cost.",
    )
    args = parser.parse_args()
    if args.before:
        compare(args.before, args.rounds, args.appends, args.verify_entries, args.dir)
        return
    m = measure(args.appends, args.verify_entries, args.dir)
    if args.json:
        print(json.dumps(m))
        return
    show("this", m)
    p50 = m["append"]["egress_p50"]
    print(f"  target: egress p50 <= 3 ms -> {p50:.3f} ms ({p50 / 3:.2f}x of budget)")


if __name__ == "__main__":
    main()
