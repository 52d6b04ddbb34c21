"""Private-context sections: markers and headed sections, as the collaboration modes use them."""

from __future__ import annotations

from cogate.policies.schema import PrivateContext
from cogate.policies.sections import private_sections, split_private

PROMPT = """## User Profile
Name: Isabel Martinez
Privacy_info: recently widowed

## User Writing History
Task: a listing
Content: waterfront

## Task
Write a script. <private>I am learning Spanish</private> Thanks."""


def test_headings_and_markers() -> None:
    sections = private_sections(PROMPT, PrivateContext())
    kinds = [(s.kind, s.name) for s in sections]
    assert kinds == [
        ("heading", "User Profile"),
        ("heading", "User Writing History"),
        ("marker", "<private>"),
    ]
    public, pieces = split_private(PROMPT, PrivateContext())
    private = "\n".join(pieces)
    assert "widowed" in private and "Spanish" in private and "waterfront" in private
    assert "widowed" not in public and "Spanish" not in public
    assert public.startswith("## Task\nWrite a script.") and public.endswith("Thanks.")


def test_unclosed_marker_is_private_to_the_end() -> None:
    text = "ok <private>secret stuff"
    (section,) = private_sections(text, PrivateContext())
    assert text[section.start :] == "<private>secret stuff"


def test_custom_rules() -> None:
    rules = PrivateContext(markers=[("[[p]]", "[[/p]]")], headings=["Secrets"])
    text = "# Secrets\nx\n# Other\ny [[p]]z[[/p]]"
    public, private = split_private(text, rules)
    assert public == "# Other\ny "
