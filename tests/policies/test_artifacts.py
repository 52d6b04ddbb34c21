"""Context keywords decided once per lemma and remembered across texts are Presidio's."""

from __future__ import annotations

import random

import pytest
from cogate.policies.detect import artifacts
from cogate.policies.detect.artifacts import LeanArtifacts, remembered
from cogate.policies.detect.engine import Detector
from presidio_analyzer.nlp_engine import NlpArtifacts

WORDS = [
    "the",
    "of",
    "and",
    "be",
    "is",
    "are",
    "was",
    "Maria",
    "maria",
    "user:maria",
    "-PRON-",
    "I",
    "me",
    "myself",
    ",",
    ".",
    ";",
    ":",
    "!",
    "?",
    "(",
    ")",
    "call",
    "phone",
    "e-mail",
    "address",
    "passport",
    "licence",
    "driver",
    "SSN",
    "IBAN",
    "account",
    "born",
    "lives",
    "in",
    "Kraków",
    "Zoë",
    "O'Neil",
    "don't",
    "can't",
    "it's",
    "555-0100",
    "2026-11-05",
    "x=f(y)",
    "__init__",
]


def fresh(rng: random.Random) -> str:
    """A word this process has not seen: stop words, punctuation and letters mixed."""
    pieces = ["THE", "Because", "whereas", "--", "...", "«»", "—", "¿", "kx", "Zoë", "'s", ":"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3))) + str(rng.random())[2:5]


def texts(seed: int, count: int = 8) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = [rng.choice(WORDS) if rng.random() < 0.7 else fresh(rng) for _ in range(300)]
        out.append(" ".join(words[: rng.randint(1, 300)]))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_remembered_decisions_give_presidios_keywords(detector: Detector, seed: int) -> None:
    engine = detector.analyzer.nlp_engine
    vocab = engine.get_nlp("en").vocab
    unseen = 0
    for text in texts(seed):  # later texts meet lemmas decided for earlier ones
        lemmas = engine.process_text(text, "en").lemmas
        unseen += sum(lemma not in vocab for lemma in set(lemmas))
        # Ours first: Presidio's adds every lemma to the vocabulary as it reads it.
        ours = LeanArtifacts.set_keywords(engine, lemmas, "en")
        assert ours == NlpArtifacts.set_keywords(engine, lemmas, "en")
    assert unseen > 20  # the path that reads the attribute getters ran


def test_the_memory_is_bounded_and_starts_again(
    detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = detector.analyzer.nlp_engine
    monkeypatch.setattr(artifacts, "MAX_REMEMBERED", 5)
    memory = remembered(engine, "en")
    memory.clear()
    lemmas = engine.process_text(texts(9, 1)[0] + " user:maria", "en").lemmas
    assert len(set(lemmas)) > 5
    expected = NlpArtifacts.set_keywords(engine, lemmas, "en")
    assert LeanArtifacts.set_keywords(engine, lemmas, "en") == expected
    assert 0 < len(memory) <= 5
    assert LeanArtifacts.set_keywords(engine, lemmas, "en") == expected


def test_unseen_stop_words_and_punctuation_are_decided_as_presidio_does(
    detector: Detector,
) -> None:
    engine = detector.analyzer.nlp_engine
    vocab = engine.get_nlp("en").vocab
    rng = random.Random(7)
    stops = sorted(engine.get_nlp("en").Defaults.stop_words)
    punct = "«»—¿¡…‹›„‟〈〉"
    lemmas = []
    for _ in range(400):
        kind = rng.random()
        if kind < 0.3:
            lemmas.append(rng.choice(stops).upper() if rng.random() < 0.5 else rng.choice(stops))
        elif kind < 0.6:
            lemmas.append("".join(rng.choice(punct) for _ in range(rng.randint(2, 6))))
        else:
            lemmas.append(fresh(rng))
    unseen = {lemma for lemma in lemmas if lemma not in vocab}
    ours = LeanArtifacts.set_keywords(engine, lemmas, "en")
    assert ours == NlpArtifacts.set_keywords(engine, lemmas, "en")
    assert len(unseen) > 100 and len(ours) < len(lemmas)
