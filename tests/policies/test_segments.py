"""NER only where a name can appear: which lines are read, and names in code still found."""

from __future__ import annotations

import pytest
from cogate.policies.detect import segments
from cogate.policies.detect.analyzer import LeanContextEnhancer
from cogate.policies.detect.engine import AnalysisCache, Detector
from cogate.policies.detect.segments import MIN_SEGMENTED, needs_ner, ner_view
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

LINES = [
    ("    total = sum(x.size for x in batch if x is not None)\n", False),
    ("2026-11-05T12:30:44.123Z INFO [cache.queue] pid=4411 latency_ms=12\n", False),
    ("    return [queue[i] for i in range(0, len(queue), 4)]\n", False),
    ("\n", False),
    ("    # TODO(maria kowalski): handle the empty case\n", True),  # comment
    ('    notify(owner="maria", email=x)\n', True),  # string literal
    ("    notify(owner=Maria)\n", True),  # capitalised word
    ("    raise ValueError(total)\n", True),  # a capitalised identifier could be a name
    ("    renew(token=Zoë)\n", True),  # letter outside ASCII
    ("ticket reassigned to maria kowalski today\n", True),  # lower-case prose
    (" * Maintained by the platform team\n", True),  # block comment line
    ("SELECT id FROM users -- owner lookup\n", True),  # SQL comment
    ("    if done is True: return f(None)\n", False),  # constants are not names
]


@pytest.mark.parametrize(("line", "expected"), LINES)
def test_lines_that_can_hold_a_name_are_read_by_ner(line: str, expected: bool) -> None:
    assert needs_ner(line) is expected


def test_the_view_keeps_every_offset_and_blanks_only_code_lines() -> None:
    code = "    total = sum(x.size for x in batch)\n"
    before, comment, after = (
        "    a = f(b)\n",
        "    # reviewed by Maria Kowalski\n",
        "    c = g(d)\n",
    )
    text = (code * 10 + before + comment + after) * 10
    view = ner_view(text)
    assert view is not None and len(view) == len(text)
    assert view.count("Maria Kowalski") == text.count("Maria Kowalski")
    # Short lines either side of a line NER reads stay, for the context NER looks at.
    assert view.count(before) == view.count(after) == 10
    long_code = "    result = compute_everything(first_argument, second_argument, third)\n"
    assert "total" not in view and view.count("\n") == text.count("\n")
    # Of a long neighbouring line only the end before (the start after) a read line stays.
    long_view = ner_view((long_code * 5 + comment) * 30)
    assert long_view is not None and "third)\n" + comment in long_view
    assert long_view.count("    result = compute") == 29  # the line after each comment


def test_short_texts_and_texts_without_code_lines_are_read_whole() -> None:
    assert ner_view("x = f(y)\n") is None
    prose = "Maria Kowalski wrote the report and sent it on Friday.\n" * 60
    assert ner_view(prose) is None


CODE = "    total = sum(x.size for x in batch if x is not None)\n    batch.sort(key=id)\n"
PLANTED = [
    "    # TODO(Maria Kowalski): handle the empty case before release\n",
    '    notify(owner="Jonas Lindqvist", retries=3)\n',
    "2026-11-05T12:30:44Z INFO [auth] ticket reassigned to Priya Okafor (queue billing)\n",
    "As discussed with Tomasz Hartmann, the cache layer should not retry.\n",
    "    raise LookupError(f'no account for Aisha Brennan')\n",
]
NAMES = ["Maria Kowalski", "Jonas Lindqvist", "Priya Okafor", "Tomasz Hartmann", "Aisha Brennan"]


def covered(spans: list, text: str, name: str) -> set[str]:
    start = text.index(name)
    return {s.entity_type for s in spans if s.start <= start and s.end >= start + len(name)}


def test_names_in_comments_literals_logs_and_prose_of_a_long_code_text_are_found(
    detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = CODE * 40 + "".join(line + CODE * 10 for line in PLANTED)
    assert len(text) > MIN_SEGMENTED and ner_view(text) is not None
    segmented = detector.detect(text)
    # The same text with NER over every line, through a detector with its own cache.
    monkeypatch.setattr(segments, "MIN_SEGMENTED", len(text) + 1)
    whole = Detector(detector.policy, AnalysisCache()).detect(text)
    for name in NAMES:
        assert covered(segmented, text, name) == covered(whole, text, name), name
    for name in NAMES[:3]:  # comment, string literal, log message
        assert covered(segmented, text, name), f"{name!r} not removed"


@pytest.mark.parametrize("seed", range(4))
def test_names_found_in_agent_outputs_are_those_found_with_ner_over_every_line(
    detector: Detector, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    import random

    rng = random.Random(seed)
    pieces = [CODE * rng.randint(1, 6) + rng.choice(PLANTED) for _ in range(60)]
    text = "".join(pieces)
    segmented = Detector(detector.policy, AnalysisCache()).detect(text)
    monkeypatch.setattr(segments, "MIN_SEGMENTED", len(text) + 1)
    whole = Detector(detector.policy, AnalysisCache()).detect(text)
    assert segmented == whole


def test_the_token_lookup_matches_presidios(detector: Detector) -> None:
    engine = detector.analyzer.nlp_engine
    text = "Call Maria at 555-0100 or write to maria@example.com, ok?  Thanks."
    artifacts = engine.process_text(text, "en")
    lean = LeanContextEnhancer()
    for start in range(len(text)):
        expected = LemmaContextAwareEnhancer._find_index_of_match_token(
            "w", start, artifacts.tokens, artifacts.tokens_indices
        )
        got = lean._find_index_of_match_token(
            "w", start, artifacts.tokens, artifacts.tokens_indices
        )
        assert got == expected


def test_the_context_words_match_presidios(detector: Detector) -> None:
    engine = detector.analyzer.nlp_engine
    text = "My phone number, call me: 555-0100. The SSN of the patient is 078-05-1120 ok."
    artifacts = engine.process_text(text, "en")
    lean, stock = LeanContextEnhancer(), LemmaContextAwareEnhancer()
    for start in (text.index("555"), text.index("078"), 0, len(text) - 2):
        assert sorted(lean._extract_surrounding_words(artifacts, "w", start)) == sorted(
            stock._extract_surrounding_words(artifacts, "w", start)
        )
