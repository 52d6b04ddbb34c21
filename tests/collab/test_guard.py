"""The one private-context guard of sketch and logits: what the private sections say is
private stays out of what leaves, whatever the policy's entity actions."""

from __future__ import annotations

import pytest
from cogate.collab.guard import build_guard, guard_for

from .doubles import WordPrivacy, exchange

pytestmark = pytest.mark.anyio

PRIVATE = (
    "## User Profile\nAge: 47\nName: Isabel Martinez\nLocation: Miami, Florida\n"
    "Occupation: Analyst at Northwind Traders\n"
    "Privacy_info: Hosts a monthly 'synergy supper' for clients; Keeps a journal she calls "
    '"Night Notes"; Volunteers at Paws Haven on weekends; Takes sertraline since her '
    "divorce; Secretly learning Portuguese for a move to Lisbon\n"
    "Writing_style: Engaging. Uses jargon."
)
# The engine's findings in PRIVATE (organisations are `keep` in the default policy, found all
# the same by `private_spans`).
ENTITIES = [("PERSON", "Isabel Martinez"), ("ORGANIZATION", "Northwind Traders")]


def guard(public: str | None = None):
    return build_guard(PRIVATE, ENTITIES, public)


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Join us for the synergy supper tonight", "synergy supper"),
        ("I read from Night Notes every day", "Night Notes"),
        ("Greetings from miami!", "miami"),
        ("I volunteer at Paws Haven.", "Paws Haven"),
        ("Isabel here, 47 years young.", "47"),
        ("Isabel here, 47 years young.", "Isabel"),
        # an employer: an organisation the default policy keeps
        ("Write an email to my manager at Northwind Traders", "Northwind"),
        # a medication: a distinctive word of the profile, in any case
        ("Explain why SERTRALINE makes me tired", "sertraline"),
        # a place that is no entity here, and the profile's rare words
        ("Plan a weekend in Lisbon", "Lisbon"),
        # a Privacy_info clause restated in other words: its rarest words go
        ("Write a blog post on secretly learning Portuguese", "secretly"),
    ],
)
def test_private_terms_are_kept_from_what_leaves(text: str, gone: str) -> None:
    out = guard().scrub(text)
    assert gone.lower() not in out.lower(), out
    assert "[PRIVATE_" in out


@pytest.mark.parametrize(
    "text",
    [
        "Write an invitation to a dinner party",
        "Write a haiku about the sea",
        "The best homes. Uses of My time. Engaging readers.",  # common words, a trait
        "Write a blog post about learning to cook",  # one word of a clause is not the clause
        "Summarise the quarterly report for the analysts",
        "Tips on avoiding jargon",  # a profile word, but no rare one (one per million words)
    ],
)
def test_ordinary_task_words_stay(text: str) -> None:
    assert guard().scrub(text) == text


def test_a_clause_is_broken_not_erased() -> None:
    g = guard()
    out = g.scrub("Write a blog post on secretly learning Portuguese.")
    assert out.startswith("Write a blog post on ")
    # fewer than half of the clause's five content words remain
    clause = ("secretly", "learning", "portuguese", "move", "lisbon")
    assert sum(w in out.lower() for w in clause) * 2 < len(clause)


def test_placeholders_are_restored_with_the_private_spelling() -> None:
    g = guard()
    out = g.scrub("Isabel's review of 'the synergy supper' for miami")
    assert "Isabel" not in out and "supper" not in out and "miami" not in out
    assert g.restore(out) == "Isabel's review of 'the synergy supper' for Miami"


def test_names_match_with_their_case_only() -> None:
    g = build_guard("Works with Local Partners", [("ORGANIZATION", "Local Partners")])
    assert g.scrub("Buy local food from Local Partners") == "Buy local food from [PRIVATE_1]"


def test_logits_also_keeps_proper_nouns_of_the_history_unless_the_task_uses_them() -> None:
    history = (
        "## User Writing History\n"
        + "Content: "
        + "We met at Brightwater Marina before the regatta started. " * 20
    )
    g = build_guard(history, [], public="Write about Florida")
    assert "Brightwater" not in g.scrub("Sailing from Brightwater today")
    g = build_guard(history, [], public="Write about Brightwater")
    assert g.scrub("Sailing from Brightwater today") == "Sailing from Brightwater today"
    # sketch (no public text): long prose gives entities and quoted strings only
    g = build_guard(history, [])
    assert g.scrub("Sailing from Brightwater today") == "Sailing from Brightwater today"


def test_no_private_text_means_no_change() -> None:
    g = build_guard("", [])
    assert g.scrub("Isabel in Miami") == "Isabel in Miami"
    assert not g.found_in("Isabel")


async def test_the_engine_scan_is_scratch_and_finds_every_type() -> None:
    privacy = WordPrivacy({"Isabel Martinez": "PERSON", "Northwind Traders": "ORGANIZATION"})
    ex = exchange({})
    g = await guard_for(ex, PRIVATE, privacy)
    assert ex.findings == [] and ex.removed == []  # nothing counted as removed from what left
    assert "Northwind Traders" in g.exact  # an ORGANIZATION, `keep` in the policy
    assert g.scrub("Martinez at Northwind Traders") == "[PRIVATE_1] at [PRIVATE_2]"
