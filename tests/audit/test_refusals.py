"""Requests the policy refuses are ledger entries of kind `refusal`: in `audit list`, in the
chain `audit verify` checks, named in the log line; never a value or a body.

The privacy engine and the ledger are the real ones (SQLite); the upstream is scripted.
"""

from __future__ import annotations

import json
import logging

from .helpers import all_files, cli, through_gateway

CARD = "4111 1111 1111 1111"
NAME = "Zorblax Quintavelle"


def chat(text: str | list) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


def test_refused_requests_are_refusal_entries_in_the_chain(privacy, cogate_home, caplog):
    image = [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]
    with caplog.at_level(logging.INFO, logger="cogate.pipeline"):
        replies = through_gateway(
            cogate_home,
            privacy,
            [
                (chat(f"Hi, I am {NAME}, charge my card {CARD} please"), {"x-cogate-app": "shop"}),
                (chat("hello"), {"x-cogate-app": "legacy-crm"}),
                (chat(image), {}),
                (chat(f"Say hello to {NAME}"), {"x-cogate-app": "shop"}),
            ],
        )
    assert [r.status_code for r in replies] == [403, 403, 403, 200]
    assert len(replies.upstream) == 1  # only the last request left
    refused_ids = [r.headers["x-cogate-audit-id"] for r in replies[:3]]

    listed = cli("list", "--kind", "refusal", "--json", "--data-dir", cogate_home)
    assert listed.exit_code == 0, listed.output
    items = [json.loads(line) for line in listed.output.splitlines()]
    assert sorted(i["id"] for i in items) == sorted(refused_ids)
    card = next(i for i in items if i["id"] == refused_ids[0])
    assert card["kind"] == "refusal" and card["bytes"] == 0
    assert card["entities"]["CREDIT_CARD"] == 1 and card["entities"].get("PERSON") == 1
    assert card["app"] == "shop" and card["surface"] == "openai.chat"
    assert card["outcome"] == "refused (blocked_by_policy)" and card["status"] == 403
    frozen = next(i for i in items if i["id"] == refused_ids[1])
    assert frozen["route"] == "frozen" and frozen["mode"] == "block"
    unscannable = next(i for i in items if i["id"] == refused_ids[2])
    assert unscannable["route"] is None and unscannable["outcome"].startswith("refused")

    shown = json.loads(cli("show", refused_ids[0], "--json", "--data-dir", cogate_home).output)
    entry = shown["entry"]
    assert "body" not in entry and shown["body"] is None
    assert {t["action"] for t in entry["tags"]} == {"blocked"}
    everything = cli("list", "--json", "--data-dir", cogate_home).output
    assert len(everything.splitlines()) == 4  # refusals sit beside the egress entry

    verified = cli("verify", "--json", "--data-dir", cogate_home)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["size"] == 5  # 3 refusals, 1 egress, 1 completion

    lines = [r.getMessage() for r in caplog.records if "status=403" in r.getMessage()]
    assert any("entities=CREDIT_CARD:1" in line for line in lines), lines
    assert any(f"audit={refused_ids[0]}" in line for line in lines), lines
    for path in all_files(cogate_home):
        data = path.read_bytes()
        for needle in (CARD, NAME, "AAAA"):
            assert needle.encode() not in data, f"{needle!r} reached {path}"
