"""`cogate audit` as a user types it: list, show, status, path and their errors."""

from __future__ import annotations

import json

from cogate.audit.ledger import SQLiteLedger

from .helpers import cli, completion, egress


def _ledger(home):
    ledger = SQLiteLedger(home, checkpoint_every=3, background=False)
    first = ledger.append_egress(egress(1, app="mail", entities={"PERSON": 2}))
    ledger.append_completion(completion(first, 1))
    ledger.append_egress(egress(2, app="notes", host="api.mistral.ai", entities={}))
    ledger.append_egress(egress(3, kind="local", app="diary"))
    ledger.close()


def test_list_filters_and_human_table(cogate_home):
    _ledger(cogate_home)
    out = cli("list", "--data-dir", cogate_home).output
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "TIME", "(UTC)"]
    assert "local (nothing left the" in lines[1] and "answered locally" in lines[1]
    assert "outcome unknown" in lines[2]
    assert "PERSON:2" in lines[3] and "ok" in lines[3]
    mail = cli("list", "--data-dir", cogate_home, "--json", "--entity", "PERSON", "--app", "mail")
    assert [json.loads(x)["id"] for x in mail.output.splitlines()] == ["1"]
    dest = cli("list", "--data-dir", cogate_home, "--json", "--destination", "api.mistral.ai")
    assert [json.loads(x)["id"] for x in dest.output.splitlines()] == ["3"]
    assert cli("list", "--data-dir", cogate_home, "--since", "2999-01-01").output.startswith(
        "no entries"
    )
    assert cli("list", "--data-dir", cogate_home, "--json", "--until", "2000-01-01").output == ""


def test_show_prints_what_left(cogate_home):
    _ledger(cogate_home)
    out = cli("show", "1", "--data-dir", cogate_home).output
    assert "POST api.openai.com/v1/chat/completions" in out
    assert "PERSON x2" in out and "outcome     ok  status 200" in out
    assert out.rstrip().endswith('"content": "request 1 about <PERSON_1>"}]}')
    raw = cli("show", "1", "--data-dir", cogate_home, "--raw").stdout_bytes
    assert raw.startswith(b'{"model"')
    local = cli("show", "4", "--data-dir", cogate_home).output
    assert "local (nothing left the device)" in local


def test_status_path_and_errors(cogate_home, tmp_path):
    _ledger(cogate_home)
    status = json.loads(cli("status", "--data-dir", cogate_home, "--json").output)
    assert status["entries"] == 4 and status["egress"] == 2 and status["local"] == 1
    assert status["unsigned_tail"] == 0
    assert "ledger.sqlite3" in cli("path", "--data-dir", cogate_home).output
    missing = cli("show", "99", "--data-dir", cogate_home)
    assert missing.exit_code == 2 and "cogate audit list" in missing.output
    assert cli("list", "--data-dir", cogate_home, "--since", "yesterday").exit_code == 2
    empty = cli("list", "--data-dir", tmp_path / "none")
    assert empty.exit_code == 2 and "no audit ledger" in empty.output


def test_default_data_dir_is_cogate_home(cogate_home):
    _ledger(cogate_home)
    assert cli("verify").exit_code == 0
