"""Every tampering the issue names is detected (exit 1) and located (first bad entry)."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from cogate.audit.hashing import canonical, entry_hash, parse_hash
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.merkle import Frontier

from .helpers import cli, db, egress, fill


def verify(data_dir, *extra):
    result = cli("verify", "--data-dir", data_dir, "--json", *extra)
    return result.exit_code, json.loads(result.output)


@pytest.fixture
def ledger_dir(cogate_home):
    fill(cogate_home, 10, every=4)  # 20 entries, checkpoints at 4, 8, ..., 20
    code, report = verify(cogate_home)
    assert code == 0 and report["size"] == 20 and report["unsigned_tail"] == 0, report
    return cogate_home


def rewrite(conn: sqlite3.Connection, seq: int, change, *, rehash: bool) -> None:
    (text,) = conn.execute("SELECT entry FROM entries WHERE seq = ?", (seq,)).fetchone()
    entry = json.loads(text)
    change(entry)
    new = canonical(entry)
    conn.execute("UPDATE entries SET entry = ? WHERE seq = ?", (new.decode(), seq))
    if rehash:
        conn.execute("UPDATE entries SET hash = ? WHERE seq = ?", (entry_hash(new), seq))


def test_clean_ledger_verifies_and_records_trusted_state(ledger_dir):
    state = json.loads((ledger_dir / "audit" / "verify-state.json").read_text())
    assert state["size"] == 20 and state["root"].startswith("sha256:")


def test_edited_field_is_located(ledger_dir):
    rewrite(db(ledger_dir), 7, lambda e: e.update(app="someone-else"), rehash=False)
    code, report = verify(ledger_dir)
    assert code == 1 and report["first_bad"] == 7


def test_edited_and_rehashed_entry_is_located_by_the_next_link(ledger_dir):
    rewrite(db(ledger_dir), 7, lambda e: e["destination"].update(host="evil.example"), rehash=True)
    code, report = verify(ledger_dir)
    assert code == 1 and report["first_bad"] == 7


def test_rewritten_chain_is_caught_by_the_signed_root(ledger_dir):
    # Whoever edits entry 6 and recomputes every later hash and link still cannot re-sign.
    conn = db(ledger_dir)
    rows = conn.execute("SELECT seq, entry FROM entries ORDER BY seq").fetchall()
    prev = None
    frontier = Frontier()
    for seq, text in rows:
        entry = json.loads(text)
        if seq == 6:
            entry["model"] = "gpt-other"
        if prev:
            entry["prev"] = prev
        new = canonical(entry)
        prev = entry_hash(new)
        frontier.append(parse_hash(prev))
        conn.execute(
            "UPDATE entries SET entry = ?, hash = ? WHERE seq = ?", (new.decode(), prev, seq)
        )
    code, report = verify(ledger_dir)
    assert code == 1
    assert report["first_bad"] == 5  # entries 5..8: the span of the first failing checkpoint
    assert "checkpoint signed at size 8" in report["problems"][0]["message"]


def test_deleted_middle_row_is_located(ledger_dir):
    db(ledger_dir).execute("DELETE FROM entries WHERE seq = 9")
    code, report = verify(ledger_dir)
    assert code == 1 and report["first_bad"] == 9


def test_swapped_rows_are_located(ledger_dir):
    conn = db(ledger_dir)
    a = conn.execute("SELECT entry, hash, body FROM entries WHERE seq = 5").fetchone()
    b = conn.execute("SELECT entry, hash, body FROM entries WHERE seq = 11").fetchone()
    conn.execute("UPDATE entries SET entry = ?, hash = ?, body = ? WHERE seq = 5", b)
    conn.execute("UPDATE entries SET entry = ?, hash = ?, body = ? WHERE seq = 11", a)
    code, report = verify(ledger_dir)
    assert code == 1 and report["first_bad"] == 5


def test_cut_off_tail_is_detected(ledger_dir):
    conn = db(ledger_dir)
    conn.execute("DELETE FROM entries WHERE seq > 14")
    conn.execute("DELETE FROM checkpoints WHERE size > 14")  # even with its checkpoints
    code, report = verify(ledger_dir)
    assert code == 1 and report["first_bad"] == 15


def test_rollback_to_an_older_copy_is_detected(ledger_dir, tmp_path):
    old = tmp_path / "old-copy"
    shutil.copytree(ledger_dir / "audit", old)
    fill(ledger_dir, 3, every=4)  # the ledger moves on to 26 entries
    assert verify(ledger_dir)[0] == 0
    # Restore the old database (the checkpoint file outside it still knows better).
    for name in ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"):
        (ledger_dir / "audit" / name).unlink(missing_ok=True)
        if (old / name).exists():
            shutil.copy2(old / name, ledger_dir / "audit" / name)
    code, report = verify(ledger_dir)
    assert code == 1 and report["first_bad"] == 21


def test_rollback_of_the_whole_audit_dir_is_caught_by_an_outside_state(ledger_dir, tmp_path):
    state = tmp_path / "elsewhere" / "state.json"
    old = tmp_path / "old-copy"
    shutil.copytree(ledger_dir / "audit", old)
    fill(ledger_dir, 3, every=4)
    assert verify(ledger_dir, "--state", state)[0] == 0
    shutil.rmtree(ledger_dir / "audit")
    shutil.copytree(old, ledger_dir / "audit")
    code, report = verify(ledger_dir, "--state", state)
    assert code == 1 and report["first_bad"] == 21
    assert any("verified at size 26" in p["message"] for p in report["problems"])


def test_key_holder_rewriting_history_is_caught_by_the_trusted_state(ledger_dir):
    # Full rewrite with a fresh key: chain, roots and signatures all consistent again.
    shutil.rmtree(ledger_dir / "keys")
    (ledger_dir / "audit" / "checkpoints.jsonl").unlink()
    conn = db(ledger_dir)
    conn.execute("DELETE FROM checkpoints")
    conn.execute("DELETE FROM entries")
    conn.execute("UPDATE frontier SET size = 0, nodes = '[]'")
    conn.close()
    fill(ledger_dir, 10, every=4)
    code, report = verify(ledger_dir)
    assert code == 1
    assert any("signing key changed" in p["message"] for p in report["problems"])


def test_forged_checkpoint_signature_is_detected(ledger_dir):
    conn = db(ledger_dir)
    (text,) = conn.execute("SELECT checkpoint FROM checkpoints WHERE size = 12").fetchone()
    cp = json.loads(text)
    cp["root"] = "sha256:" + "1" * 64
    conn.execute("UPDATE checkpoints SET checkpoint = ? WHERE size = 12", (canonical(cp).decode(),))
    code, report = verify(ledger_dir)
    assert code == 1
    assert any("bad signature" in p["message"] for p in report["problems"])


def test_edited_body_is_located(ledger_dir):
    db(ledger_dir).execute("UPDATE entries SET body = CAST('{\"x\":1}' AS BLOB) WHERE seq = 3")
    code, report = verify(ledger_dir)
    assert code == 1 and report["first_bad"] == 3


def test_body_deleted_without_prune_is_located_but_prune_is_not(ledger_dir):
    db(ledger_dir).execute("UPDATE entries SET body = NULL WHERE seq = 5")
    code, report = verify(ledger_dir)
    assert code == 1 and report["first_bad"] == 5


def test_prune_keeps_the_ledger_verifiable(ledger_dir):
    result = cli("prune", "--data-dir", ledger_dir, "--before", "2999-01-01")
    assert result.exit_code == 0 and "dropped 10 stored bodies" in result.output
    stored = db(ledger_dir).execute("SELECT count(*) FROM entries WHERE body IS NOT NULL")
    assert stored.fetchone() == (0,)
    code, report = verify(ledger_dir)
    assert code == 0, report
    shown = json.loads(cli("show", "1", "--data-dir", ledger_dir, "--json").output)
    assert shown["body"] is None and shown["body_state"] == "pruned (hash kept)"


def test_unsigned_tail_is_reported_not_failed(cogate_home):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=4, background=False)
    for i in range(6):
        ledger.append_egress(egress(i))
    code, report = verify(cogate_home)  # verify while the writer is still open
    ledger.close()
    assert code == 0 and report["unsigned_tail"] == 2


def test_cannot_verify_exits_2(cogate_home, tmp_path):
    assert cli("verify", "--data-dir", tmp_path / "nothing-here").exit_code == 2
    fill(cogate_home, 2)
    (cogate_home / "keys" / "audit-signing.pub").unlink()
    (cogate_home / "keys" / "audit-signing.key").unlink()
    assert cli("verify", "--data-dir", cogate_home).exit_code == 2
