"""`cogate policy test`: findings without values, and the sanitized text."""

from __future__ import annotations

import json

from click.testing import CliRunner
from cogate.policies.cli import policy as policy_cli

from .conftest import FIXTURES

TEXT = "Hi, my name is Isabel Martinez, mail isabel.martinez@example.com, card 4111 1111 1111 1111"


def test_policy_test_json_has_no_raw_values() -> None:
    result = CliRunner().invoke(policy_cli, ["test", "--json", TEXT])
    assert result.exit_code == 1, result.output  # the card is blocked: the request is refused
    out = json.loads(result.output)
    types = {f["type"] for f in out["findings"]}
    assert {"PERSON", "EMAIL_ADDRESS", "CREDIT_CARD"} <= types
    for finding in out["findings"]:
        assert set(finding) == {"type", "start", "end", "score", "recognizer", "action"}
    assert out["blocked"] == ["CREDIT_CARD"]
    assert "isabel.martinez@example.com" not in out["sanitized"]
    assert "[EMAIL_1]" in out["sanitized"]
    assert "Isabel" not in json.dumps(out["findings"])


def test_policy_test_reads_stdin_and_a_policy_file() -> None:
    result = CliRunner().invoke(
        policy_cli,
        ["test", "--policy", str(FIXTURES / "good" / "custom.yaml"), "--json", "-"],
        input="Project Bluebird for EMP-123456 at Acme Corp",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {f["type"] for f in out["findings"]} >= {"PROJECT", "EMPLOYEE_ID"}
    assert "Bluebird" not in out["sanitized"] and "Acme Corp" in out["sanitized"]


def test_policy_test_human_output_and_bad_policy() -> None:
    result = CliRunner().invoke(policy_cli, ["test", TEXT])
    assert result.exit_code == 1  # refused: a card number
    assert "sanitized:" in result.output and "CREDIT_CARD" in result.output
    bad = CliRunner().invoke(
        policy_cli, ["test", "--policy", str(FIXTURES / "bad" / "bad_mode.yaml"), "x"]
    )
    assert bad.exit_code == 2
