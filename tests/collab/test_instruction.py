"""Reducing the instruction to the general task and removing the private context's terms."""

from __future__ import annotations

import pytest
from cogate.collab.cogenesis import leaks, load_samples, private_items, request_messages
from cogate.collab.guard import guard_for
from cogate.collab.instruction import sanitize_instruction, strip_headings, task_title
from cogate.policies.schema import PrivateContext

from .doubles import WordPrivacy, exchange, split_request


@pytest.mark.parametrize(
    ("task", "title"),
    [
        (
            "Develop a Press Release: Generate a polished release with the DJ from Berlin.",
            "Develop a Press Release",
        ),
        ("## Task\nReview of AI: Write an in-depth review.", "Review of AI"),
        ("Write a haiku about rain. Mention my dog Rex.", "Write a haiku about rain."),
        ("Summarise this", "Summarise this"),
        (
            "Time: 10:30 is when I wake up and I would like a schedule for a day of deep work: "
            "please plan it.",
            "Time: 10:30 is when I wake up and I would like a schedule for a "
            "day of deep work: please plan it.",
        ),
    ],
)
def test_task_title(task: str, title: str) -> None:
    assert task_title(task) == title


def test_strip_headings() -> None:
    assert strip_headings("## Task\nDo it\n\n\n\n# x\nnow") == "Do it\n\nnow"


@pytest.mark.anyio
async def test_redaction_runs_on_what_leaves() -> None:
    privacy = WordPrivacy({"Ana": "PERSON"})
    ex = exchange({})
    out = await sanitize_instruction(
        ex, "Letter for Ana: tell Ana hello", privacy, reduction="none"
    )
    assert out == "Letter for [PERSON_1]: tell [PERSON_1] hello"
    out = await sanitize_instruction(
        ex, "Letter for Ana: tell Ana hello", privacy, reduction="title"
    )
    assert out == "Letter for [PERSON_1]"
    assert privacy.calls[-1] == ("Letter for Ana", "sketch.instruction")


@pytest.mark.anyio
async def test_title_and_guard_on_cogenesis_tasks(data_dir) -> None:
    """On the data set: no quoted string of the profile survives the sanitization."""
    for sample in load_samples(data_dir):
        items = private_items(sample)
        privacy = WordPrivacy({items.name: "PERSON"})
        ex = exchange({})
        split = split_request({"messages": request_messages(sample)}, PrivateContext())
        guard = await guard_for(ex, split.private_text, privacy)
        out = await sanitize_instruction(ex, split.instruction, privacy, guard=guard)
        found = leaks(items, [out])
        for key in ("name_full", "name_first", "name_last", "quoted"):
            assert found[key][0] == 0, (key, out)
