"""The private-terms guard: what the entity detectors cannot know is private."""

from __future__ import annotations

import pytest
from cogate.collab.logits.guard import REDACTED, private_terms

PRIVATE = (
    "## User Profile\nAge: 47\nName: Isabel Martinez\nLocation: Miami, Florida\n"
    "Privacy_info: Hosts a monthly 'synergy supper' for clients; Keeps a journal she calls "
    '"Night Notes"; Volunteers at Paws Haven on weekends\n'
    "Writing_style: Engaging. Uses jargon."
)


@pytest.mark.parametrize(
    ("prefix", "gone"),
    [
        ("Join us for the synergy supper tonight", "synergy supper"),
        ("I read from Night Notes every day", "Night Notes"),
        ("Greetings from miami!", "miami"),
        ("I volunteer at Paws Haven.", "Paws Haven"),
        ("Isabel here, 47 years young.", "47"),
    ],
)
def test_private_terms_are_scrubbed_from_a_prefix(prefix, gone):
    terms = private_terms(PRIVATE, "Write an invitation to a dinner party")
    out = terms.scrub(prefix)
    assert gone.lower() not in out.lower()
    assert REDACTED in out


def test_words_of_the_public_instruction_and_common_words_stay():
    terms = private_terms(PRIVATE, "Write about Florida real estate")
    text = "The best homes in Florida. Uses of My time. Engaging readers."
    assert terms.scrub(text) == text


def test_no_private_text_means_no_change():
    terms = private_terms("", "anything")
    assert terms.scrub("Isabel in Miami") == "Isabel in Miami"
    assert not terms.found_in("Isabel")
