"""Data-subject search: `cogate audit find --value` finds the entries where a value was
detected, through its keyed tag, with what was done to it; never another value."""

from __future__ import annotations

import json

import pytest
from cogate.audit import ledger as ledger_module

from .helpers import cli, through_gateway

NAME = "Eleanor Vance"
CARD = "4111 1111 1111 1111"


def chat(text: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


def at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    monkeypatch.setattr(ledger_module, "now", lambda: when)


def test_a_name_sent_three_days_apart_is_found_and_a_name_never_sent_is_not(
    privacy, cogate_home, monkeypatch
):
    at(monkeypatch, "2026-12-01T09:00:00.000000Z")
    first = through_gateway(
        cogate_home,
        privacy,
        [
            (
                chat(f"Please write a thank-you note to {NAME} for the flowers."),
                {"x-cogate-conversation": "monday", "x-cogate-app": "mail"},
            ),
            (chat("What is the capital of France?"), {"x-cogate-app": "mail"}),
        ],
    )
    at(monkeypatch, "2026-12-04T16:30:00.000000Z")
    second = through_gateway(
        cogate_home,
        privacy,
        [
            (
                chat(f"Remind {NAME} about Thursday's meeting with Grace Hopper."),
                {"x-cogate-conversation": "thursday", "x-cogate-app": "notes"},
            ),
            (chat(f"{NAME} pays with {CARD}"), {"x-cogate-app": "shop"}),
        ],
    )
    assert [r.status_code for r in [*first, *second]] == [200, 200, 200, 403]
    assert all(NAME.encode() not in body for body in first.upstream + second.upstream)

    result = cli("find", "--value", "eleanor  vance", "--json", "--data-dir", cogate_home)
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.output.splitlines()]
    assert [f["time"][:10] for f in found] == ["2026-12-01", "2026-12-04", "2026-12-04"]
    assert [f["app"] for f in found] == ["mail", "notes", "shop"]
    assert [f["done"] for f in found] == [["pseudonymized"], ["pseudonymized"], ["blocked"]]
    assert all(f["types"] == ["PERSON"] for f in found)
    assert found[2]["kind"] == "refusal"
    for other in ("Grace", "Hopper", "4111", "flowers", "Thursday"):
        assert other not in result.output

    typed = cli("find", "--value", NAME, "--type", "EMAIL_ADDRESS", "--data-dir", cogate_home)
    assert typed.output.strip() == "not found in any entry"
    never = cli("find", "--value", "Margaret Thornbury", "--data-dir", cogate_home)
    assert never.exit_code == 0 and never.output.strip() == "not found in any entry"
    table = cli("find", "--value", NAME, "--data-dir", cogate_home)
    assert "3 entries" in table.output and "pseudonymized (PERSON)" in table.output


def test_find_needs_the_gateways_key(tmp_path):
    result = cli("find", "--value", "x", "--data-dir", tmp_path / "nothing")
    assert result.exit_code == 2 and "no ledger tagging key" in result.output
    assert not (tmp_path / "nothing").exists()  # a search creates nothing
