"""`cogate tokens add|list|revoke`: tokens shown once, stored as hashes, owner-only."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner
from cogate.audit.backends import open_tokens
from cogate.audit.tokens import token_hash
from cogate.proxy.cli import main


def run(*args: str):
    return CliRunner().invoke(main, ["tokens", *args], catch_exceptions=False)


def test_add_prints_the_token_last_and_stores_only_its_hash(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run(
        "add", "ci-bot", "--app", "builds", "--app", "deploys", "--yes", "--data-dir", str(data)
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("cgt_") and len(token) > 40
    db = data / "audit" / "ledger.sqlite3"
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.is_file())
    assert token.encode() not in raw  # only the hash is kept
    assert token_hash(token).encode() in raw
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    store = open_tokens(data)
    found = store.lookup_by_hash(token_hash(token))
    store.close()
    assert found is not None and found.name == "ci-bot" and found.apps == ("builds", "deploys")


def test_list_and_revoke(tmp_path: Path) -> None:
    data = str(tmp_path)
    token = run("add", "alpha", "--yes", "--data-dir", data).output.strip().splitlines()[-1]
    run("add", "beta", "--app", "notes", "--data-dir", data)
    listed = run("list", "--json", "--data-dir", data)
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["name"], r["apps"], r["revoked"]) for r in rows] == [
        ("alpha", [], None),
        ("beta", ["notes"], None),
    ]
    assert token not in listed.output and "hash" not in listed.output
    assert run("revoke", "alpha", "--data-dir", data).exit_code == 0
    assert "revoked" in run("list", "--data-dir", data).output
    store = open_tokens(tmp_path)
    assert store.lookup_by_hash(token_hash(token)) is None
    assert store.any_issued()  # a revoked token still makes the gateway shared
    store.close()
    again = run("revoke", "alpha", "--data-dir", data)
    assert again.exit_code == 1 and "no active token" in again.output
    # a revoked name may be issued anew
    assert run("add", "alpha", "--data-dir", data).exit_code == 0


def test_bad_names_and_duplicates_are_refused(tmp_path: Path) -> None:
    data = str(tmp_path)
    for name in ("Eleanor Vance", "x" * 60, "eleanor@example.com", ".lead"):
        result = run("add", name, "--yes", "--data-dir", data)
        assert result.exit_code == 2 and "token name" in result.output
    assert run("add", "ok", "--app", "bad app", "--yes", "--data-dir", data).exit_code == 2
    assert run("add", "ok", "--yes", "--data-dir", data).exit_code == 0
    duplicate = run("add", "ok", "--data-dir", data)
    assert duplicate.exit_code == 2 and "revoke it first" in duplicate.output


def test_empty_list_says_personal_mode(tmp_path: Path) -> None:
    assert "personal mode" in run("list", "--data-dir", str(tmp_path)).output


def test_first_token_warns_and_needs_yes_when_not_interactive(tmp_path: Path) -> None:
    data = str(tmp_path)
    refused = run("add", "ops", "--data-dir", data)
    assert refused.exit_code == 2
    assert "every app" in refused.output.lower() and "--yes" in refused.output
    assert "personal mode" in run("list", "--data-dir", data).output  # nothing was added
    assert run("add", "ops", "--yes", "--data-dir", data).exit_code == 0
    # Later tokens need no confirmation: the gateway is shared already.
    assert run("add", "ci", "--data-dir", data).exit_code == 0


def test_reset_returns_to_personal_mode_and_is_recorded(tmp_path: Path) -> None:
    data = str(tmp_path)
    run("add", "ops", "--yes", "--data-dir", data)
    run("revoke", "ops", "--data-dir", data)
    store = open_tokens(tmp_path)
    assert store.any_issued()  # a revoked token alone keeps the gateway shared
    store.close()
    assert run("reset", "--data-dir", data).exit_code == 2  # --yes is required
    done = run("reset", "--yes", "--data-dir", data)
    assert done.exit_code == 0 and "personal mode" in done.output
    store = open_tokens(tmp_path)
    assert not store.any_issued()
    store.close()
    seq = done.output.strip().split()[-1].rstrip(")")
    shown = CliRunner().invoke(main, ["audit", "show", seq, "--json", "--data-dir", data])
    assert json.loads(shown.output)["entry"]["kind"] == "tokens_reset", shown.output
    verified = CliRunner().invoke(main, ["audit", "verify", "--data-dir", data])
    assert verified.exit_code == 0, verified.output
