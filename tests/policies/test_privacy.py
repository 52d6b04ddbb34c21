"""The engine as pipeline stages: policy resolution, modes, actions, conversations, caching."""

from __future__ import annotations

import json
import socket

import pytest
from cogate.core.errors import PolicyBlocked
from cogate.core.exchange import Exchange
from cogate.policies.detect.engine import Detector
from cogate.policies.schema import load_policy
from cogate.proxy.surfaces import operation_at

from .conftest import chat, exchange

EMAIL = "isabel.martinez@example.com"
ROUTES = """
name: routed
routes:
  - name: notes
    match: {app: "notes*"}
    mode: local
  - name: hr
    match: {app: "hr-*"}
    policy: strict
  - name: ci
    match: {app: "ci"}
    mode: block
  - name: big
    match: {host: "api.openai.com", model: "gpt-4*"}
    mode: sketch
"""


@pytest.mark.parametrize(
    ("app", "model", "policy_id", "mode"),
    [
        ("notes-app", "gpt-4o", "routed/notes", "local"),
        ("hr-tool", "gpt-4o", "routed/hr", "redact"),
        ("ci", "gpt-4o", "routed/ci", "block"),
        ("chat", "gpt-4o", "routed/big", "sketch"),
        ("chat", "gpt-3.5", "routed", "redact"),
    ],
)
def test_routes_choose_policy_and_mode(make_privacy, app, model, policy_id, mode) -> None:
    privacy = make_privacy(ROUTES)
    ex = exchange(body=chat(("user", "hi"), model=model), app=app)
    privacy.resolve(ex)
    assert (ex.policy_id, ex.mode) == (policy_id, mode)
    assert ex.policy_hash.startswith("sha256:") and len(ex.policy_hash) == 71
    assert ex.store_body is (app != "hr-tool")  # strict keeps hashes only


def test_route_by_intercepted_destination(make_privacy) -> None:
    privacy = make_privacy("routes:\n  - match: {host: 'api.anthropic.com'}\n    mode: local\n")
    ex = exchange(body=chat(("user", "hi")), destination_host="api.anthropic.com")
    privacy.resolve(ex)
    assert ex.mode == "local"
    ex = exchange(body=chat(("user", "hi")))
    privacy.resolve(ex)
    assert ex.mode == "redact"


def test_a_route_host_is_the_upstream_the_surface_sends_to(make_privacy) -> None:
    # Issue 25: Messages traffic goes to the Anthropic upstream, so it meets its host's route.
    privacy = make_privacy(
        "routes:\n  - match: {host: 'api.anthropic.com'}\n    mode: local\n",
        anthropic_upstream="https://api.anthropic.com",
    )
    body = {"model": "claude-x", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    surface, operation = operation_at("/v1/messages")
    ex = Exchange(route="messages", body=body, surface=surface, op=operation.name, raw=b"{}")
    privacy.resolve(ex)
    assert ex.mode == "local"
    chat_ex = exchange(body=chat(("user", "hi")))
    privacy.resolve(chat_ex)
    assert chat_ex.mode == "redact"


def test_a_request_may_tighten_never_loosen(privacy) -> None:
    ex = exchange(body=chat(("user", "hi")), requested_mode="local")
    privacy.resolve(ex)
    assert ex.mode == "local"
    ex = exchange(body=chat(("user", "hi")), requested_mode="passthrough")
    privacy.resolve(ex)
    assert ex.mode == "redact"


def test_blocked_type_names_the_type_never_the_value(privacy) -> None:
    card = "4111 1111 1111 1111"
    ex = exchange(body=chat(("user", f"charge my card {card} please")))
    privacy.resolve(ex)
    with pytest.raises(PolicyBlocked) as info:
        privacy.sanitize(ex)
    assert "CREDIT_CARD" in info.value.message and "messages[0].content" in info.value.message
    assert card not in json.dumps(info.value.body())
    assert info.value.status == 403
    assert ex.outbound_body is None


def test_block_and_passthrough_modes(make_privacy) -> None:
    blocking = make_privacy("mode: block\n")
    ex = exchange(body=chat(("user", "hi")))
    blocking.resolve(ex)
    with pytest.raises(PolicyBlocked):
        blocking.sanitize(ex)
    passing = make_privacy("mode: passthrough\n")
    ex = exchange(body=chat(("user", f"mail {EMAIL}")))
    passing.resolve(ex)
    passing.sanitize(ex)
    assert ex.outbound == ex.raw and not ex.findings  # byte for byte what the app sent


def test_collaboration_modes_are_left_to_their_runners(privacy) -> None:
    ex = exchange(body=chat(("user", f"mail {EMAIL}")), requested_mode="sketch")
    privacy.resolve(ex)
    privacy.sanitize(ex)
    assert ex.outbound_body is None


def test_actions_mask_hash_drop(make_privacy, tmp_path) -> None:
    text = f"mail {EMAIL} or +49 30 1234567, I am Isabel Martinez."
    privacy = make_privacy("actions: {EMAIL_ADDRESS: mask, PHONE_NUMBER: hash, PERSON: drop}\n")
    ex = exchange(body=chat(("user", text)))
    privacy.resolve(ex)
    privacy.sanitize(ex)
    sent = ex.outbound_body["messages"][0]["content"]
    assert "******.********@*******.***" in sent
    assert "<PHONE:" in sent and "1234567" not in sent
    assert "Isabel" not in sent
    again = exchange(body=chat(("user", text)))
    privacy.resolve(again)
    privacy.sanitize(again)
    assert again.outbound_body["messages"][0]["content"] == sent  # keyed hash is stable
    assert (tmp_path / "data" / "pseudonym-hash.key").stat().st_mode & 0o777 == 0o600


def test_placeholders_are_stable_across_turns(lenient) -> None:
    turn1 = chat(("system", "You help with mail."), ("user", f"Write to {EMAIL}"))
    ex1 = exchange(body=turn1)
    lenient.resolve(ex1)
    lenient.sanitize(ex1)
    answer = "I wrote to isabel.martinez@example.com. Should I copy t.baker@example.org?"
    turn2 = chat(
        ("system", "You help with mail."),
        ("user", f"Write to {EMAIL}"),
        ("assistant", answer),
        ("user", "Yes, copy t.baker@example.org"),
    )
    ex2 = exchange(body=turn2)
    lenient.resolve(ex2)
    lenient.sanitize(ex2)
    sent = [m["content"] for m in ex2.outbound_body["messages"]]
    assert sent[1] == "Write to [EMAIL_1]"
    assert sent[2] == "I wrote to [EMAIL_1]. Should I copy [EMAIL_2]?"
    assert sent[3] == "Yes, copy [EMAIL_2]"
    # another conversation starts its own numbering
    other = exchange(body=chat(("user", "Write to t.baker@example.org")))
    lenient.resolve(other)
    lenient.sanitize(other)
    assert other.outbound_body["messages"][0]["content"] == "Write to [EMAIL_1]"


def test_conversation_header_keys_the_vault(lenient) -> None:
    first = exchange(body=chat(("user", "Write to t.baker@example.org")), conversation="c-1")
    second = exchange(
        body=chat(("user", f"and {EMAIL} too, then t.baker@example.org")), conversation="c-1"
    )
    for ex in (first, second):
        lenient.resolve(ex)
        lenient.sanitize(ex)
    assert second.outbound_body["messages"][0]["content"] == "and [EMAIL_2] too, then [EMAIL_1]"


def test_turns_cost_only_their_new_text(lenient) -> None:
    detector = lenient.detector(lenient.policy)
    messages = [("system", "You are kind.")]
    for turn in range(6):
        messages.append(("user", f"Turn {turn}: please write to user{turn}@example.com"))
        before = detector.cache.misses
        ex = exchange(body=chat(*messages))
        lenient.resolve(ex)
        lenient.sanitize(ex)
        analysed = detector.cache.misses - before
        # only the new messages (the last answer and the new question) are analysed
        assert analysed == 2
        messages.append(("assistant", f"Done, wrote to user{turn}@example.com"))


def test_sanitize_text_uses_the_conversation_vault(lenient) -> None:
    ex = exchange(body=chat(("user", f"Write to {EMAIL}")), conversation="k")
    lenient.resolve(ex)
    lenient.sanitize(ex)
    out = lenient.sanitize_text(ex, f"Draft for {EMAIL} and t.baker@example.org", "sketch")
    assert out == "Draft for [EMAIL_1] and [EMAIL_2]"
    assert ex.findings[-1].field == "sketch"
    restored = ex.restorer.restore_json({"t": out})
    assert restored == {"t": f"Draft for {EMAIL} and t.baker@example.org"}


def test_detection_opens_no_network_connection(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("detection tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # a fresh detector and texts the cache has not seen: emails and URLs go through tldextract
    detector = Detector(load_policy())
    text = "Write to someone.new@example.co.uk about https://example.org/x and x@test.dev"
    found = {s.entity_type for s in detector.raw(text)}
    assert "EMAIL_ADDRESS" in found
