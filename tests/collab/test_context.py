"""Splitting requests into private context and instruction, for both request layouts."""

from __future__ import annotations

import pytest
from cogate.core.errors import BadRequest
from cogate.policies.schema import PrivateContext as Rules
from cogate.policies.sections import split_private

from .doubles import split_request

PROFILE = "Name: Ana Lima\nLocation: Porto, Portugal\nPrivacy_info: Secretly learning Spanish"
HISTORY = "Task: A note\nContent: Dear team, ..."
TASK = "Write a welcome speech: for the new interns."


def split_text(text: str, rules: Rules) -> tuple[list[str], str]:
    """What a message contributes to a split: its private pieces and the rest."""
    rest, private = split_private(text, rules)
    return private, rest.strip() if private else text


def sections_body() -> dict:
    content = f"## User Profile\n{PROFILE}\n\n## User Writing History\n{HISTORY}\n\n## Task\n{TASK}"
    return {"messages": [{"role": "user", "content": content}]}


def test_cogenesis_single_message() -> None:
    split = split_request(sections_body(), Rules())
    assert split.instruction == f"## Task\n{TASK}"
    assert "Ana Lima" in split.private_text and "Dear team" in split.private_text
    assert "Ana" not in split.instruction and "Spanish" not in split.instruction


def test_profile_in_system_message() -> None:
    body = {
        "messages": [
            {"role": "system", "content": f"You write for this user.\n{PROFILE}"},
            {"role": "user", "content": TASK},
        ]
    }
    split = split_request(body, Rules())
    assert split.instruction == TASK
    assert split.private == [f"You write for this user.\n{PROFILE}"]


def test_system_message_not_private_when_policy_says_so() -> None:
    body = {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": TASK}]
    }
    split = split_request(body, Rules(system_message=False))
    assert split.private == []
    assert [t.role for t in split.turns] == ["system", "user"]


@pytest.mark.parametrize(
    ("text", "private", "rest"),
    [
        ("Hi <private>I am ill</private> there", ["I am ill"], "Hi  there"),
        ("a <private>x</private> b <private>y</private> c", ["x", "y"], "a  b  c"),
        ("unclosed <private>all of this", ["all of this"], "unclosed"),
        ("no markers at all", [], "no markers at all"),
    ],
)
def test_markers(text: str, private: list[str], rest: str) -> None:
    assert split_text(text, Rules(headings=())) == (private, rest)


def test_custom_markers_and_headings() -> None:
    rules = Rules(markers=(("[[", "]]"),), headings=("Secrets",))
    private, rest = split_text(
        "Do it [[quietly]].\n\n### secrets:\nmine\n#### detail\nmore\n### Next\nok", rules
    )
    assert private == ["quietly", "### secrets:\nmine\n#### detail\nmore"]
    assert rest == "Do it .\n\n### Next\nok"


def test_heading_match_ignores_case_and_colon() -> None:
    private, rest = split_text("## user profile:\nAna\n## Task\nGo", Rules())
    assert private == ["## user profile:\nAna"]
    assert rest == "## Task\nGo"


def test_non_text_parts_are_refused() -> None:
    body = {
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
        ]
    }
    with pytest.raises(BadRequest, match="text only"):
        split_request(body, Rules())


def test_text_parts_are_joined() -> None:
    body = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "<private>a</private>b"}]}
        ]
    }
    split = split_request(body, Rules())
    assert split.private == ["a"] and split.instruction == "b"
