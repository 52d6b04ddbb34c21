"""Crashes, concurrent writers and failing disks: the ledger stays contiguous and verifiable,
and a failed append refuses the request before anything leaves."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading

import httpx
import pytest
from cogate.audit.ledger import SQLiteLedger

from .helpers import cli, db, egress, fill

# A writer process: appends until killed (or `count` appends), printing each acknowledged id.
WORKER = """
import sys
from pathlib import Path
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.records import EgressRecord
ledger = SQLiteLedger(Path(sys.argv[1]), checkpoint_every=5, background=False)
count = int(sys.argv[2])
i = 0
while count < 0 or i < count:
    rec = EgressRecord(exchange_id=f"{sys.argv[3]}-{i}", app=sys.argv[3], destination_host="h",
                       destination_path="/v1/x", method="POST", model="m", mode="redact",
                       policy_id="p", policy_hash="sha256:" + "0" * 64, entity_counts={},
                       body=b'{"i": %d}' % i)
    print(ledger.append_egress(rec), flush=True)
    i += 1
ledger.close()
"""


def worker(data_dir, count: int, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(data_dir), str(count), name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_during_appends_loses_at_most_the_unacknowledged(cogate_home):
    rng = random.Random(4)
    acknowledged = 0
    for _ in range(4):
        proc = worker(cogate_home, -1, "crash")
        target = rng.randint(3, 30)
        for seen, line in enumerate(proc.stdout, 1):
            acknowledged = max(acknowledged, int(line))
            if seen >= target:
                break
        os.kill(proc.pid, signal.SIGKILL)
        # Through the same reader: lines it buffered past `target` were acknowledged too
        # (communicate() reads the pipe beneath it and would miss them).
        rest = proc.stdout.read()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        for line in rest.split():
            acknowledged = max(acknowledged, int(line))
        stored = db(cogate_home).execute("SELECT count(*) FROM entries").fetchone()[0]
        assert acknowledged <= stored <= acknowledged + 1
        acknowledged = stored
    result = cli("verify", "--data-dir", cogate_home)
    assert result.exit_code == 0, result.output


def test_processes_appending_at_once_keep_ids_contiguous(cogate_home):
    fill(cogate_home, 1)  # create schema and keys once, as `cogate serve` would
    procs = [worker(cogate_home, 25, f"p{i}") for i in range(3)]
    ids = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        ids += [int(x) for x in out.split()]
    assert sorted(ids) == list(range(3, 78))  # after the 2 entries written by fill()
    result = cli("verify", "--data-dir", cogate_home)
    assert result.exit_code == 0, result.output


def test_processes_racing_to_create_the_ledger_agree_on_keys(cogate_home):
    procs = [worker(cogate_home, 5, f"p{i}") for i in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0


def _full(ledger: SQLiteLedger) -> None:
    """Make the database file unable to grow: SQLite's own 'disk is full' path."""
    pages = ledger.store.db.execute("PRAGMA page_count").fetchone()[0]
    ledger.store.db.execute(f"PRAGMA max_page_count = {pages}")


def _read_only(ledger: SQLiteLedger) -> None:
    ledger.store.db.execute("PRAGMA query_only = ON")


@pytest.mark.parametrize("break_disk", [_full, _read_only], ids=["disk-full", "read-only"])
def test_failing_disk_refuses_and_keeps_earlier_entries(cogate_home, break_disk):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=3, background=False)
    for i in range(4):
        ledger.append_egress(egress(i))
    break_disk(ledger)
    big = egress(99)
    big.body = b"x" * 200_000
    with pytest.raises(sqlite3.Error):
        ledger.append_egress(big)
    ledger.store.close()
    assert db(cogate_home).execute("SELECT count(*) FROM entries").fetchone() == (4,)
    result = cli("verify", "--data-dir", cogate_home, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["unsigned_tail"] == 1


def test_gateway_sends_nothing_when_the_append_fails(cogate_home):
    import anyio
    from cogate.core.errors import LedgerUnavailable
    from cogate.core.exchange import Exchange
    from cogate.core.settings import Settings
    from cogate.proxy.egress.gate import EgressGate

    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    settings = Settings(data_dir=cogate_home, upstream="http://upstream.test/v1")
    ledger = SQLiteLedger(cogate_home, background=False)
    _full(ledger)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
            gate = EgressGate(settings, client, ledger)
            ex = Exchange(route="chat/completions", body={"model": "m"})
            with pytest.raises(LedgerUnavailable):
                await gate.send(
                    ex,
                    "chat/completions",
                    {"model": "m", "messages": [{"role": "user", "content": "x" * 300_000}]},
                )

    anyio.run(main)
    ledger.close()
    assert sent == []


def test_concurrent_threads_and_a_second_process(cogate_home):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=4, background=False)
    proc = worker(cogate_home, 20, "other")
    threads = [
        threading.Thread(target=lambda: [ledger.append_egress(egress(i)) for i in range(10)])
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    proc.communicate(timeout=120)
    ledger.close()
    seqs = [r[0] for r in db(cogate_home).execute("SELECT seq FROM entries ORDER BY seq")]
    assert seqs == list(range(1, 41))
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0
