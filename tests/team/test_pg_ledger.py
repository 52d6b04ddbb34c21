"""The PostgreSQL ledger store against a real server: one chain for many writers, safe
migrations, crash safety, and the same verification and review commands as SQLite."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import psycopg
import pytest
from cogate.audit import migrations
from cogate.audit.hashing import canonical
from cogate.audit.ledger import ChainLedger
from cogate.audit.pg_store import PostgresStore

from ..audit.helpers import cli, completion, egress


def pg_ledger(url, data_dir, **options) -> ChainLedger:
    options.setdefault("background", False)
    return ChainLedger(PostgresStore(url), data_dir, **options)


def verify(url, data_dir, *extra):
    result = cli("verify", "--data-dir", data_dir, "--database-url", url, "--json", *extra)
    return result.exit_code, json.loads(result.output)


def fill(url, data_dir, n, every=4) -> list[str]:
    ledger = pg_ledger(url, data_dir, checkpoint_every=every)
    ids = []
    try:
        for i in range(n):
            entities = {"PERSON": 1, "EMAIL": 1} if i % 2 else {"PERSON": 1}
            audit_id = ledger.append_egress(egress(i, entities=entities))
            ids.append(audit_id)
            ledger.append_completion(completion(audit_id, i))
    finally:
        ledger.close()
    return ids


@pytest.fixture
def filled(database_url, cogate_home):
    fill(database_url, cogate_home, 10)  # 20 entries, checkpoints at 4, 8, ..., 20
    code, report = verify(database_url, cogate_home)
    assert code == 0 and report["size"] == 20 and report["unsigned_tail"] == 0, report
    return database_url


def test_replicas_share_one_chain_with_group_commit(database_url, cogate_home):
    # Two ledgers on one database stand for two replicas; each has many request threads.
    replicas = [pg_ledger(database_url, cogate_home, group_commit=True) for _ in range(2)]
    start = threading.Barrier(24)
    ids: list[int] = []

    def worker(ledger: ChainLedger, i: int) -> None:
        start.wait()
        for j in range(10):
            audit_id = ledger.append_egress(egress(i * 100 + j))
            ids.append(int(audit_id))
            ledger.append_completion(completion(audit_id, j))

    threads = [threading.Thread(target=worker, args=(replicas[i % 2], i)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    commits = sum(r.commits for r in replicas)
    for r in replicas:
        r.close()
    assert len(set(ids)) == 240
    # Concurrent appends shared transactions instead of committing one by one.
    assert commits < 480, commits
    code, report = verify(database_url, cogate_home)
    assert code == 0 and report["size"] == 480, report


def test_replicas_starting_together_migrate_once(database_url):
    errors: list[BaseException] = []

    def start() -> None:
        try:
            PostgresStore(database_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(database_url) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
        ledger_ids = conn.execute("SELECT count(*) FROM meta WHERE key = 'ledger_id'").fetchone()
    assert names == [m.__name__ for m in migrations.MIGRATIONS]
    assert ledger_ids == (1,)


def test_every_migration_has_a_postgres_body():
    assert all(m.postgres_step is not None for m in migrations.MIGRATIONS)


def _edit(url, sql, args=()):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql, args)


def test_edited_row_is_detected(filled, cogate_home):
    with psycopg.connect(filled, autocommit=True) as conn:
        (text,) = conn.execute("SELECT entry FROM entries WHERE seq = 7").fetchone()
        entry = json.loads(text)
        entry["app"] = "someone-else"
        conn.execute("UPDATE entries SET entry = %s WHERE seq = 7", (canonical(entry).decode(),))
    code, report = verify(filled, cogate_home)
    assert code == 1 and report["first_bad"] == 7, report


def test_deleted_row_is_detected(filled, cogate_home):
    _edit(filled, "DELETE FROM entries WHERE seq = 9")
    code, report = verify(filled, cogate_home)
    assert code == 1 and report["first_bad"] == 9, report


def test_truncated_tail_is_detected(filled, cogate_home):
    # Cutting the tail and the checkpoints that cover it still leaves checkpoints.jsonl.
    _edit(filled, "DELETE FROM entries WHERE seq > 14")
    _edit(filled, "DELETE FROM checkpoints WHERE size > 14")
    code, report = verify(filled, cogate_home, "--no-update-state")
    assert code == 1 and report["first_bad"] == 15, report


def test_no_database_cannot_verify(postgres, cogate_home):
    url = postgres.rsplit("/", 1)[0] + "/no_such_db"
    code, report = verify(url, cogate_home)
    assert code == 2 and report["status"] == "cannot_verify"
    assert "no_such_db" in report["cannot_verify"]


def test_review_commands_read_the_shared_ledger(filled, cogate_home):
    listed = cli("list", "--data-dir", cogate_home, "--database-url", filled, "--json")
    items = [json.loads(line) for line in listed.output.splitlines()]
    assert listed.exit_code == 0 and len(items) == 10
    assert all(it["outcome"] == "ok" for it in items)
    email = cli(
        "list", "--data-dir", cogate_home, "--database-url", filled, "--entity", "EMAIL", "--json"
    )
    assert len(email.output.splitlines()) == 5
    shown = cli("show", "1", "--data-dir", cogate_home, "--database-url", filled, "--json")
    assert json.loads(shown.output)["summary"]["status"] == 200
    status = cli("status", "--data-dir", cogate_home, "--database-url", filled, "--json")
    assert json.loads(status.output)["entries"] == 20


def test_prune_keeps_the_chain_verifiable(filled, cogate_home):
    result = cli(
        "prune", "--data-dir", cogate_home, "--database-url", filled, "--before", "2999-01-01"
    )
    assert result.exit_code == 0 and "dropped 10 stored bodies" in result.output
    code, report = verify(filled, cogate_home)
    assert code == 0 and report["size"] == 21, report


HOLD_LOCK = """
import sys, time
from pathlib import Path
from cogate.audit.ledger import ChainLedger
from cogate.audit.pg_store import PostgresStore
from tests.audit.helpers import egress
ledger = ChainLedger(PostgresStore(sys.argv[1]), Path(sys.argv[2]), background=False)
for i in range(3):
    ledger.append_egress(egress(i))
real_insert = ledger._insert
def stall(tx, fields, body):
    seq = real_insert(tx, fields, body)  # the row is written, the transaction still open
    print("inserted", seq, flush=True)
    time.sleep(600)
ledger._insert = stall
ledger.append_egress(egress(99))
"""


def test_writer_killed_mid_append_leaves_no_half_entry(database_url, cogate_home):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, database_url, str(cogate_home)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "inserted 4"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The killed writer held the sequencer row; the next writer gets it once the server
    # notices the dead connection, and continues the chain where it was.
    ledger = pg_ledger(database_url, cogate_home)
    audit_id = ledger.append_egress(egress(5))
    ledger.close()
    assert audit_id == "4"
    code, report = verify(database_url, cogate_home)
    assert code == 0 and report["size"] == 4, report
