"""Retention: bodies older than `retention_days` are pruned on a schedule while the chain,
the checkpoints and the proofs keep verifying; `audit prune --dry-run` changes nothing."""

from __future__ import annotations

import json
import time

import pytest
from cogate.audit import ledger as ledger_module
from cogate.audit.ledger import SQLiteLedger
from cogate.core.settings import Settings

from .helpers import cli, db, egress

OLD, NEW = "2026-01-01T00:00:00.000000Z", "2999-01-01T00:00:00.000000Z"


def write(cogate_home, monkeypatch, when: str, n: int, start: int = 0) -> None:
    monkeypatch.setattr(ledger_module, "now", lambda: when)
    ledger = SQLiteLedger(cogate_home, checkpoint_every=3, background=False)
    for i in range(start, start + n):
        ledger.append_egress(egress(i))
    ledger.close()
    monkeypatch.undo()


def bodies(cogate_home) -> int:
    return (
        db(cogate_home).execute("SELECT count(*) FROM entries WHERE body IS NOT NULL").fetchone()[0]
    )


def test_retention_days_is_a_setting():
    assert Settings(retention_days=30).retention_days == 30
    with pytest.raises(ValueError):
        Settings(retention_days=0)


def test_a_dry_run_prints_what_would_go_and_changes_nothing(cogate_home, monkeypatch):
    write(cogate_home, monkeypatch, OLD, 4)
    write(cogate_home, monkeypatch, NEW, 2, start=4)
    before = db(cogate_home).execute("SELECT count(*) FROM entries").fetchone()[0]
    dry = cli("prune", "--before", "2026-06-01", "--dry-run", "--data-dir", cogate_home)
    assert dry.exit_code == 0, dry.output
    assert "would drop 4 stored bodies" in dry.output and "entries 1..4" in dry.output
    assert bodies(cogate_home) == 6
    assert db(cogate_home).execute("SELECT count(*) FROM entries").fetchone()[0] == before
    days = cli("prune", "--retention-days", "30", "--dry-run", "--data-dir", cogate_home)
    assert "would drop 4 stored bodies" in days.output
    both = cli("prune", "--data-dir", cogate_home)
    assert both.exit_code == 2 and "--before DATE or --retention-days" in both.output


def test_the_schedule_prunes_old_bodies_and_everything_still_verifies(
    cogate_home, monkeypatch, tmp_path
):
    write(cogate_home, monkeypatch, OLD, 4)
    write(cogate_home, monkeypatch, NEW, 2, start=4)
    assert (
        cli("prove", "2", "--out", tmp_path / "before.json", "--data-dir", cogate_home).exit_code
        == 0
    )
    signed_before = json.loads((tmp_path / "before.json").read_text())["tree_size"]

    ledger = SQLiteLedger(
        cogate_home, retention_days=30, retention_every=0.05, checkpoint_seconds=0.05
    )
    deadline = time.monotonic() + 10
    while bodies(cogate_home) > 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    ledger.close()
    assert bodies(cogate_home) == 2  # the future-dated ones stay

    prunes = [
        json.loads(e)
        for (e,) in db(cogate_home).execute("SELECT entry FROM entries WHERE kind = 'prune'")
    ]
    assert len(prunes) == 1 and prunes[0]["dropped"] == 4  # one prune, not one per round
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0
    shown = json.loads(cli("show", "2", "--json", "--data-dir", cogate_home).output)
    assert shown["body_state"] == "pruned (hash kept)"

    # The proof made before the prune still holds, and so does a new one.
    assert cli("verify-proof", tmp_path / "before.json").exit_code == 0
    assert (
        cli("prove", "2", "--out", tmp_path / "after.json", "--data-dir", cogate_home).exit_code
        == 0
    )
    assert cli("verify-proof", tmp_path / "after.json").exit_code == 0
    size = json.loads((tmp_path / "after.json").read_text())["tree_size"]
    grown = cli(
        "consistency",
        str(signed_before),
        str(size),
        "--out",
        tmp_path / "c.json",
        "--data-dir",
        cogate_home,
    )
    assert grown.exit_code == 0, grown.output
    assert cli("verify-proof", tmp_path / "c.json").exit_code == 0
