"""Sensitive matters in a task (health, sexuality, religion, finances, legal), table-tested,
and the engine's scan of private text that ignores the policy's `keep` actions."""

from __future__ import annotations

import pytest
from cogate.policies.privacy import Privacy
from cogate.policies.schema import PolicyError, policy_from_data
from cogate.policies.sensitive import categories, generalise, sensitive_topics

from .conftest import chat, exchange

LEAKED = (
    "Write a short note to my boss explaining that my bipolar disorder relapse and lithium "
    "adjustment mean I need two weeks off."
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (LEAKED, ["health"]),
        ("Draft an email: I take sertraline and see a therapist on Fridays", ["health"]),
        ("Ask for time off after my chemo sessions", ["health"]),
        ("Tell my parents that I am gay", ["sexuality"]),
        ("A speech for my coming out party", ["sexuality"]),
        ("Explain to my team why I fast during Ramadan", ["religion"]),
        ("A letter to my landlord: I am behind on rent and have credit card debt", ["finances"]),
        ("Ask my bank to pause the mortgage after I filed for bankruptcy", ["finances"]),
        ("Tell my manager about my DUI court date", ["legal"]),
        ("A note to school about the custody hearing after my divorce", ["legal"]),
        ("I was arrested last year; explain the gap in my CV", ["legal"]),
        ("Say I missed work for my hospitalization and lost my salary", ["finances", "health"]),
    ],
)
def test_sensitive_tasks_are_found(text: str, found: list[str]) -> None:
    assert categories(sensitive_topics(text)) == found


@pytest.mark.parametrize(
    "text",
    [
        "Write a blog post about spring gardening",
        "Plan a birthday party in April",
        "Write a cover letter for a data analyst job",
        "Summarise the performance review of the new build system",
        "Explain std::vector to a beginner",
        "Write a product description for hearing aids",  # not the AIDS illness
        "Meal prep ideas for a busy week",
        "A haiku about the sea at dawn",
        "Draft release notes for version 2.3 of the mobile app",
    ],
)
def test_ordinary_tasks_are_not_sensitive(text: str) -> None:
    assert sensitive_topics(text) == []


def test_generalise_names_the_kind_of_matter_only() -> None:
    out = generalise(LEAKED)
    assert "bipolar" not in out and "lithium" not in out and "relapse" not in out
    assert "my health matter" in out and "two weeks off" in out
    assert (
        generalise("Tell my parents that I am gay") == "Tell my parents that I am a personal matter"
    )


@pytest.mark.parametrize("value", ["local", "generalise", "allow"])
def test_the_policy_key_accepts_its_values(value: str) -> None:
    policy = policy_from_data({"private_context": {"sensitive_task": value}}, "test")
    assert policy.private_context.sensitive_task == value


def test_the_default_keeps_sensitive_tasks_local_and_a_bad_value_is_named() -> None:
    assert policy_from_data({}, "test").private_context.sensitive_task == "local"
    with pytest.raises(PolicyError, match="private_context.sensitive_task"):
        policy_from_data({"private_context": {"sensitive_task": "sometimes"}}, "test")


def test_private_spans_include_types_the_policy_keeps(privacy: Privacy) -> None:
    """Organisations are `keep` in the default policy: redaction leaves them, the private
    context scan still reports them (an employer named in a profile must not leave)."""
    text = "Jane Doe works at Microsoft in Seattle."
    ex = exchange(body=chat(("user", "hi")))
    privacy.resolve(ex)
    kinds = {kind for kind, _, _ in privacy.private_spans(ex, text)}
    assert "ORGANIZATION" in kinds and "PERSON" in kinds
    assert "Microsoft" in privacy.sanitize_text(ex, text, "probe")  # kept when redacting
    found = [text[s:e] for _, s, e in privacy.private_spans(ex, text)]
    assert "Microsoft" in found
