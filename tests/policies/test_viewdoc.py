"""The NER view built from the text's tokens is the Doc tokenizing the view gives, and the
context keywords worked out per distinct lemma are Presidio's."""

from __future__ import annotations

import random

import pytest
from cogate.policies.detect.artifacts import LeanArtifacts
from cogate.policies.detect.engine import Detector
from cogate.policies.detect.segments import ner_view
from cogate.policies.detect.viewdoc import view_doc
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.attrs import IDX, IS_SPACE, LOWER, NORM, ORTH, PREFIX, SENT_START, SHAPE, SPACY, SUFFIX

# What NER reads of a token (its embeddings use NORM, PREFIX, SUFFIX and SHAPE).
READ = [ORTH, NORM, SPACY, IDX, SHAPE, PREFIX, SUFFIX, IS_SPACE, LOWER]
CODE = [
    "    total = sum(x.size for x in batch if x is not None)\n",
    "\treturn [queue[i] for i in range(0, len(queue), 4)]  \n",
    "2026-11-05T12:30:44.123Z INFO [cache.queue] pid=4411 latency_ms=12\r\n",
    "  x=1;y=2\n",
    "\n",
    " \n",
]
NAMED = [
    "    # TODO(Maria Kowalski): don't ship before the review\n",
    '    notify(owner="Jonas Lindqvist", email="jonas@example.org")\n',
    "ticket reassigned to Zoë O'Neil (queue billing) — she can't reproduce it\n",
    "As discussed with Tomasz Hartmann, the cache layer should not retry.\n",
]


def agent_text(seed: int) -> str:
    rng = random.Random(seed)
    lines = [rng.choice(NAMED) if rng.random() < 0.15 else rng.choice(CODE) for _ in range(400)]
    lead = rng.choice(["", " ", "  ", "\n", " x = f(y)\n"])  # how a text starts matters
    return lead + "".join(lines) + rng.choice(["", " ", "  \n  "])


@pytest.mark.parametrize("seed", range(12))
def test_the_view_built_from_the_texts_tokens_is_the_tokenized_view(
    detector: Detector, seed: int
) -> None:
    nlp = detector.analyzer.nlp_engine.get_nlp("en")
    text = agent_text(seed)
    view = ner_view(text)
    assert view is not None
    built, tokenized = view_doc(nlp.make_doc(text), text, view), nlp.make_doc(view)
    assert built is not None
    assert built.to_array(READ).tolist() == tokenized.to_array(READ).tolist()
    # Sentence starts inside the text (NER never reads the first token's).
    starts = [doc.to_array([SENT_START])[1:].tolist() for doc in (built, tokenized)]
    assert starts[0] == starts[1]
    ents = [(e.start_char, e.end_char, e.label_) for e in nlp(built).ents]
    assert ents == [(e.start_char, e.end_char, e.label_) for e in nlp(tokenized).ents]
    assert any(label == "PERSON" for *_, label in ents)


def test_a_run_kept_only_in_part_falls_back_to_tokenizing(detector: Detector) -> None:
    nlp = detector.analyzer.nlp_engine.get_nlp("en")
    # A long code line without a space: only its end stays as context of the comment.
    text = "x=f(" + "a" * 100 + ")\n" + "    # reviewed by Maria Kowalski\n" + "x=f(y)\n" * 400
    view = ner_view(text)
    assert view is not None and view[:105] != text[:105] and not view[:105].isspace()
    assert view_doc(nlp.make_doc(text), text, view) is None


def test_the_context_keywords_are_presidios(detector: Detector) -> None:
    engine = detector.analyzer.nlp_engine
    text = agent_text(3) + "Be there: user:maria is the one. Call me -PRON- at 555-0100!"
    lemmas = engine.process_text(text, "en").lemmas
    expected = NlpArtifacts.set_keywords(engine, lemmas, "en")
    assert LeanArtifacts.set_keywords(engine, lemmas, "en") == expected
    assert "maria" in expected and "user" in expected  # split at the colon
