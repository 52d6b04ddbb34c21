"""One text's NER shared between the worker process and the gateway: where the cut falls,
how the two halves' entities are joined, and that names at the cut are still found."""

from __future__ import annotations

import re

import pytest
from cogate.policies.detect import ner_split
from cogate.policies.detect.engine import Detector
from cogate.policies.detect.ner_process import NerProcess
from cogate.policies.detect.segments import ner_view
from cogate.policies.schema import load_policy

NAMES = ["Maria Gonzalez", "Tom Becker", "Priya Raman", "Jean Dupont", "Aiko Tanaka"]


def prose(sentences: int) -> str:
    parts = []
    for i in range(sentences):
        name = NAMES[i % len(NAMES)]
        parts.append(f"On Tuesday {name} wrote again about the delayed shipment number {i}.")
    return " ".join(parts)


def test_short_texts_go_to_the_worker_whole() -> None:
    text = prose(5)
    assert len(text) < ner_split.MIN_SPLIT
    assert ner_split.cut_for(text, text) is None


def test_prose_is_cut_after_a_sentence_near_the_workers_share() -> None:
    text = prose(40)
    cut = ner_split.cut_for(text, text)
    assert cut is not None
    assert text[cut - 2 : cut] == ". " and text[cut].isupper()
    share = ner_split.worker_share(text, text)
    assert 0.6 < share < 0.8
    assert abs(cut - share * len(text)) < 80  # the nearest sentence end (they are ~70 long)
    front, back_start = ner_split.parts(text, cut)
    # Each side reads past the cut by at least the overlap, to a word's end.
    assert text.startswith(front) and len(front) >= cut + ner_split.OVERLAP
    assert text[len(front)].isspace() and not front[-1].isspace()
    assert back_start <= cut - ner_split.OVERLAP
    assert text[back_start - 1].isspace() and not text[back_start].isspace()


def test_a_long_run_without_spaces_is_cut_where_the_overlap_ends() -> None:
    text = "x" * 600 + ". " + "y" * 600
    front, back_start = ner_split.parts(text, 602)
    assert len(front) == 602 + ner_split.OVERLAP  # no space within reach: the overlap's end
    assert back_start == 602 - ner_split.OVERLAP
    text = "x" * 600 + ". " + "y" * 120 + " z" + "w" * 120 + " v"
    assert text[len(ner_split.parts(text, 602)[0])] == " "  # a space within reach: there


def test_code_with_little_for_ner_is_not_cut() -> None:
    code = "def handler(event):\n    return handle(event.x + 1)\n" * 80
    text = code + "# Maintainer: Priya Raman, based in Chennai\n" + "x = [1, 2, 3]\n" * 80
    view = ner_view(text)
    assert view is not None
    # The gateway's pattern work over all the code outweighs NER over the few lines it reads.
    assert ner_split.worker_share(text, view) >= ner_split.MAX_SHARE
    assert ner_split.cut_for(text, view) is None


def test_a_text_without_a_sentence_or_line_end_near_the_share_is_not_cut() -> None:
    text = "word " * 600  # no sentence end anywhere
    assert ner_split.cut_for(text, text) is None


def test_each_side_keeps_its_own_entities_and_the_others_where_they_add_something() -> None:
    cut = 100
    front = [(10, 20, "PERSON"), (60, 70, "GPE"), (120, 130, "GPE"), (150, 160, "ORG")]
    back = [(62, 68, "PERSON"), (90, 98, "PERSON"), (120, 131, "PERSON"), (170, 180, "GPE")]
    assert ner_split.joined(front, back, cut) == [
        (10, 20, "PERSON"),  # front's side
        (60, 70, "GPE"),  # front's side; back's (62, 68) overlaps it
        (90, 98, "PERSON"),  # only back saw it, on front's side: kept
        (120, 131, "PERSON"),  # back's side wins over front's (120, 130)
        (150, 160, "ORG"),  # only front saw it, on back's side: kept
        (170, 180, "GPE"),
    ]


def test_two_that_overlap_across_the_cut_become_one_covering_both() -> None:
    joined = ner_split.joined([(95, 105, "PERSON")], [(101, 112, "ORG")], 100)
    assert joined == [(95, 112, "ORG")]  # the longer one's label


@pytest.fixture(scope="module")
def process_detector() -> Detector:
    return Detector(load_policy(None), all_types=True, ner="process")


def test_names_on_both_sides_of_the_cut_and_at_it_are_found(process_detector, monkeypatch) -> None:
    text = prose(40)
    cut = ner_split.cut_for(text, text)
    assert cut is not None
    sent: list[int] = []
    submit = NerProcess.submit

    def recording(self, piece: str, *french):
        sent.append(len(piece))
        return submit(self, piece, *french)

    monkeypatch.setattr(NerProcess, "submit", recording)
    spans = process_detector.detect(text, acting_only=False)
    assert sent == [len(ner_split.parts(text, cut)[0])]  # the worker read the front only
    people = [s for s in spans if s.entity_type == "PERSON"]
    for match in re.finditer("|".join(NAMES), text):
        assert any(s.start <= match.start() and match.end() <= s.end for s in people), (
            f"{match.group()} at {match.start()} (cut at {cut})"
        )
    # The name right after the cut is read by both sides; the one before it too.
    after = text.index("On Tuesday", cut) + len("On Tuesday ")
    assert any(s.start == after for s in people)
