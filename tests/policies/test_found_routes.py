"""Routes chosen on what a request holds (`match.found`) and routes that stick to a
conversation (`sticky: true`)."""

from __future__ import annotations

import pytest
from cogate.policies.schema import PolicyError, policy_from_data
from cogate.policies.sensitive import FOUND_CATEGORIES

from .conftest import chat, exchange

HEALTH_LOCAL = """
routes:
  - name: health-local
    match: {found: [HEALTH]}
    mode: local
    sticky: true
"""

DIAGNOSIS = "I was diagnosed with bipolar disorder last month. How do I tell my boss?"


def resolved(privacy, body: dict, conversation: str | None = None, app: str = "default"):
    ex = exchange("chat/completions", body, conversation=conversation, app=app)
    privacy.resolve(ex)
    return ex


def test_found_must_list_names() -> None:
    with pytest.raises(PolicyError, match="found"):
        policy_from_data({"routes": [{"match": {"found": []}, "mode": "local"}]}, "t")
    with pytest.raises(PolicyError, match="found"):
        policy_from_data({"routes": [{"match": {"found": [3]}, "mode": "local"}]}, "t")
    policy = policy_from_data(
        {"routes": [{"match": {"found": ["US_SSN", "health"]}, "mode": "local", "sticky": True}]},
        "t",
    )
    assert policy.routes[0].sticky and policy.routes[0].match.found == ["US_SSN", "health"]


def test_the_categories_are_one_constant() -> None:
    assert set(FOUND_CATEGORIES) >= {"health", "sexuality", "religion", "finance", "legal"}


def test_a_diagnosis_takes_the_route_and_the_conversation_sticks(make_privacy) -> None:
    privacy = make_privacy(HEALTH_LOCAL)
    first = resolved(privacy, chat(("user", DIAGNOSIS)), conversation="c1")
    assert (first.mode, first.policy_route) == ("local", "health-local")
    assert first.policy_route_reason == "found:HEALTH"
    assert first.response_headers["x-cogate-route"] == "health-local; reason=found:HEALTH"

    later = resolved(privacy, chat(("user", "What should I cook tonight?")), conversation="c1")
    assert (later.mode, later.policy_route_reason) == ("local", "sticky")

    other = resolved(privacy, chat(("user", "What should I cook tonight?")), conversation="c2")
    assert other.mode == "redact" and other.policy_route is None
    assert "x-cogate-route" not in other.response_headers


def test_found_combines_with_the_other_keys(make_privacy) -> None:
    privacy = make_privacy(
        "routes:\n  - name: ssn-notes\n    match: {app: notes, found: [US_SSN]}\n    mode: block\n"
    )
    body = chat(("user", "My SSN is 536-22-8751, file it."))
    assert resolved(privacy, body, app="notes").mode == "block"
    assert resolved(privacy, body, app="mail").mode == "redact"
    assert resolved(privacy, chat(("user", "Nothing here.")), app="notes").mode == "redact"


def test_a_request_that_stays_in_redact_is_not_detected_twice(make_privacy) -> None:
    privacy = make_privacy(HEALTH_LOCAL)
    ex = resolved(privacy, chat(("user", "Write to Margaret Thornbury about the garden.")))
    assert ex.mode == "redact"
    misses = privacy.cache.misses
    privacy.sanitize(ex)
    assert privacy.cache.misses == misses  # every analysis came from the resolve stage
    assert {f.entity_type for f in ex.findings} == {"PERSON"}


def test_a_responses_chain_of_local_answers_sticks(make_privacy) -> None:
    privacy = make_privacy(HEALTH_LOCAL)
    first = exchange("responses", {"model": "gpt-x", "input": DIAGNOSIS})
    privacy.resolve(first)
    assert first.mode == "local" and first.on_stored is not None
    first.on_stored(["resp_local_1"])  # what the pipeline does with a local answer's id
    later = exchange(
        "responses",
        {"model": "gpt-x", "input": "What should I cook?", "previous_response_id": "resp_local_1"},
    )
    privacy.resolve(later)
    assert (later.mode, later.policy_route_reason) == ("local", "sticky")
    elsewhere = exchange("responses", {"model": "gpt-x", "input": "What should I cook?"})
    privacy.resolve(elsewhere)
    assert elsewhere.mode == "redact"
