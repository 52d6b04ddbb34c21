"""The ledger as the gateway uses it: ids, entries, checkpoints, permissions, concurrency."""

from __future__ import annotations

import json
import stat
import threading
from contextlib import contextmanager

import pytest
from cogate.audit import checkpoints as cps
from cogate.audit import open_ledger
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.records import CompletionRecord
from cogate.core.settings import Settings

from .helpers import all_files, cli, completion, db, egress, fill


def test_open_ledger_from_settings_returns_sequence_ids(cogate_home):
    ledger = open_ledger(Settings(data_dir=cogate_home, checkpoint_every=3))
    first = ledger.append_egress(egress(1))
    done = ledger.append_completion(completion(first, 1))
    local = ledger.append_egress(egress(2, kind="local"))
    ledger.close()
    assert (first, done, local) == ("1", "2", "3")
    rows = db(cogate_home).execute("SELECT seq, entry FROM entries ORDER BY seq").fetchall()
    entries = [json.loads(e) for _, e in rows]
    assert entries[0]["kind"] == "egress" and entries[0]["destination"]["host"] == "api.openai.com"
    assert entries[1] == {**entries[1], "kind": "completion", "egress": 1, "status": 200}
    assert entries[2]["kind"] == "local" and entries[2]["body"]["size"] == 0


def test_entry_fields_and_links(cogate_home):
    fill(cogate_home, 3, every=100)
    rows = db(cogate_home).execute("SELECT seq, entry, hash, body FROM entries").fetchall()
    prev = "sha256:" + "0" * 64
    for seq, text, digest, _body in rows:
        e = json.loads(text)
        assert e["seq"] == seq and e["prev"] == prev
        assert digest.startswith("sha256:")
        prev = digest
    first = json.loads(rows[0][1])
    assert first["policy"] == {"id": "default", "hash": "sha256:" + "ab" * 32, "canon": "rfc8785"}
    assert first["entities"] == {"PERSON": 1}
    assert first["body"]["stored"] is True and rows[0][3].startswith(b'{"model"')


def test_hash_only_body_is_not_stored(cogate_home):
    ledger = SQLiteLedger(cogate_home, background=False)
    ledger.append_egress(egress(1, store_body=False))
    ledger.close()
    body, entry = db(cogate_home).execute("SELECT body, entry FROM entries").fetchone()
    assert body is None
    assert json.loads(entry)["body"]["stored"] is False
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0


def test_credentials_are_masked_in_a_stored_body(cogate_home):
    # Issue 25: a body carrying a credential is still stored, the credential masked, and
    # verify checks the stored copy against the hash of what was stored.
    record = egress(1)
    record.body = b'{"tools":[{"authorization":"mcp-tok-91","headers":{"X":"h\\"v"}}]}'
    record.masked = ["mcp-tok-91", 'h"v']
    ledger = SQLiteLedger(cogate_home, background=False)
    ledger.append_egress(record)
    ledger.close()
    body, entry = db(cogate_home).execute("SELECT body, entry FROM entries").fetchone()
    assert body == b'{"tools":[{"authorization":"[CREDENTIAL]","headers":{"X":"[CREDENTIAL]"}}]}'
    fields = json.loads(entry)["body"]
    assert fields["stored"] is True and fields["masked"] == 2
    assert fields["size"] == len(record.body)
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0


def test_equal_values_share_a_tag_without_being_stored(cogate_home):
    ledger = SQLiteLedger(cogate_home, background=False)
    ledger.append_egress(egress(1, removed=[("PERSON", "Ada Lovelace"), ("EMAIL", "a@b.org")]))
    ledger.append_egress(egress(2, removed=[("PERSON", "Ada Lovelace")]))
    ledger.append_egress(egress(3, removed=[("PERSON", "Grace Hopper")]))
    ledger.close()
    tags = [json.loads(e)["tags"] for (e,) in db(cogate_home).execute("SELECT entry FROM entries")]
    person = [next(t["tag"] for t in ts if t["type"] == "PERSON") for ts in tags]
    assert person[0] == person[1] != person[2]
    assert all(t.startswith("hmac-sha256:") for t in person)


def test_checkpoints_every_n_and_at_close_in_db_and_file(cogate_home):
    fill(cogate_home, 5, every=4)  # 10 entries: checkpoints at 4, 8 and 10 (close)
    db_lines = [r[0] for r in db(cogate_home).execute("SELECT checkpoint FROM checkpoints")]
    file_lines = cps.read_lines(cogate_home / "audit" / "checkpoints.jsonl")
    assert db_lines == file_lines
    assert [cps.parse(t).size for t in file_lines] == [4, 8, 10]


def test_timed_checkpoint_signs_an_idle_tail(cogate_home):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=1000, checkpoint_seconds=0.05)
    ledger.append_egress(egress(1))
    signed = threading.Event()
    for _ in range(200):
        if ledger.store.last_checkpoint():
            signed.set()
            break
        signed.wait(0.05)
    ledger.close()
    assert signed.is_set()


def test_files_are_owner_only(cogate_home):
    fill(cogate_home, 2)
    ledger = SQLiteLedger(cogate_home, background=False)  # keep -wal and -shm present
    try:
        for path in all_files(cogate_home):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for path in [cogate_home / "audit", cogate_home / "keys"]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o700
    finally:
        ledger.close()
    # The keys live apart from the database.
    assert (cogate_home / "keys" / "audit-hmac.key").exists()
    assert not list((cogate_home / "audit").glob("*.key"))


@pytest.mark.parametrize("group_commit", [False, True])
def test_threads_get_contiguous_ids(cogate_home, group_commit):
    ledger = SQLiteLedger(
        cogate_home, checkpoint_every=7, background=False, group_commit=group_commit
    )
    ids: list[str] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        for i in range(20):
            audit_id = ledger.append_egress(egress(t * 100 + i))
            with lock:
                ids.append(audit_id)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ledger.close()
    assert sorted(map(int, ids)) == list(range(1, 121))
    assert ledger.commits <= 120
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0


def test_the_gateways_sqlite_ledger_groups_concurrent_commits(cogate_home):
    ledger = open_ledger(Settings(data_dir=cogate_home))
    try:
        assert isinstance(ledger, SQLiteLedger) and ledger.group_commit
    finally:
        ledger.close()


def test_egress_commits_flush_and_completions_ride_on_the_next_flush(cogate_home):
    """An egress entry is on the disk before its caller may send; a completion records what
    already happened and is flushed by the next durable commit (or the closing checkpoint)."""
    ledger = SQLiteLedger(cogate_home, background=False)
    seen: list[tuple[int, int]] = []  # (entries before the commit, SQLite synchronous level)
    transaction = ledger.store.transaction

    @contextmanager
    def watched(durable: bool = True):
        with transaction(durable) as tx:
            level = ledger.store.db.execute("PRAGMA synchronous").fetchone()[0]
            seen.append((tx.head()[0].size, level))
            yield tx

    ledger.store.transaction = watched
    for i in (1, 2):
        ledger.append_completion(completion(ledger.append_egress(egress(i)), i))
    ledger.close()  # its checkpoint covers the last completion: a durable commit first
    full, normal = 2, 1
    assert seen == [(0, full), (1, normal), (2, full), (3, normal), (4, full)]
    assert cps.parse(cps.read_lines(ledger.paths.checkpoint_file)[-1]).size == 4
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0


def test_completion_needs_a_ledger_id(cogate_home):
    ledger = SQLiteLedger(cogate_home, background=False)
    try:
        bad = CompletionRecord(egress_id="abc", exchange_id="x", status=None, outcome="timeout")
        try:
            ledger.append_completion(bad)
        except ValueError as exc:
            assert "audit id" in str(exc)
        else:
            raise AssertionError("a non-ledger egress id was accepted")
    finally:
        ledger.close()
