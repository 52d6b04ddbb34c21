"""Presidio's NLP artifacts with the context keywords worked out once per distinct lemma.

Presidio asks the spaCy vocabulary whether each token's lemma is a stop word or
punctuation, token by token; an agent's tool output repeats the same few thousand words,
so deciding each distinct lemma once gives the same keyword list for a fraction of the
lookups. The decisions are kept across texts too (per NLP engine, bounded): they depend
on the lemma's string alone, and new prose is mostly words seen before.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from spacy.attrs import IS_PUNCT, IS_STOP

# Lemmas whose decision is remembered per engine; past it the memory starts again (a
# vocabulary of common words refills it within a few texts).
MAX_REMEMBERED = 50_000

_DECISIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DECISIONS_LOCK = threading.Lock()


class LeanArtifacts(NlpArtifacts):
    """`NlpArtifacts` whose keyword list is computed with one decision per distinct lemma.
    `masks` holds what several recognizers derive from the same text (`policies/detect/runs.py`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.masks: dict[str, str] = {}
        # Where the French pipeline found the entities (`languages.py`), as (start, end).
        self.french: list[tuple[int, int]] = []

    @staticmethod
    def set_keywords(nlp_engine, lemmas: list[str], language: str) -> list[str]:
        if not nlp_engine:
            return []
        parts_of = remembered(nlp_engine, language)
        keywords: list[str] = []
        for lemma in lemmas:
            parts = parts_of.get(lemma)
            if parts is None:
                if len(parts_of) >= MAX_REMEMBERED:
                    parts_of.clear()
                parts = parts_of[lemma] = _keyword_parts(nlp_engine, lemma, language)
            keywords += parts
        return keywords


class PendingArtifacts(LeanArtifacts):
    """Artifacts whose entities are still being found (by NER in another process) while
    the pattern recognizers read the tokens: the first read of `entities` or `scores`
    waits for them."""

    def __init__(self, entities: Callable[[], tuple[list[Any], list[float]]], **kwargs) -> None:
        self._pending: Callable[[], tuple[list[Any], list[float]]] | None = entities
        super().__init__(entities=[], scores=[], **kwargs)

    @property
    def entities(self) -> list[Any]:
        self._settle()
        return self._entities

    @entities.setter
    def entities(self, value: list[Any]) -> None:
        self._entities = value

    @property
    def scores(self) -> list[float]:
        self._settle()
        return self._scores

    @scores.setter
    def scores(self, value: list[float]) -> None:
        self._scores = value

    def _settle(self) -> None:
        if self._pending is not None:  # cleared only once found: a failure fails every read
            self._entities, self._scores = self._pending()
            self._pending = None


def remembered(nlp_engine, language: str) -> dict[str, list[str]]:
    """The engine's remembered decisions for `language` (lemma → its keyword parts)."""
    with _DECISIONS_LOCK:
        per_language = _DECISIONS.setdefault(nlp_engine, {})
        return per_language.setdefault(language, {})


def _keyword_parts(nlp_engine, lemma: str, language: str) -> list[str]:
    # Presidio's rule: no stop words, punctuation, "-PRON-" or "be"; lower-cased, and
    # split at colons (so `user:maria` offers both words as context).
    if lemma in ("-PRON-", "be"):
        return []
    if _stop_or_punct(nlp_engine, lemma, language):
        return []
    return lemma.lower().split(":")


def _stop_or_punct(nlp_engine, lemma: str, language: str) -> bool:
    """Presidio's `is_stopword(lemma) or is_punct(lemma)`, without adding a lexeme.

    Presidio reads the flags of `vocab[lemma]`, which creates the lexeme if the vocabulary
    lacks it (running all ~20 attribute getters and keeping it for the process); a new
    lexeme's flags are exactly its getters' answers (`Vocab._new_lexeme`), so for a string
    not in the vocabulary the two getters give the same answer.
    """
    engine_type = type(nlp_engine)
    if (
        engine_type.is_stopword is not SpacyNlpEngine.is_stopword
        or engine_type.is_punct is not SpacyNlpEngine.is_punct
    ):
        return nlp_engine.is_stopword(lemma, language) or nlp_engine.is_punct(lemma, language)
    vocab = nlp_engine.nlp[language].vocab
    getters = vocab.lex_attr_getters or {}
    if lemma in vocab or IS_STOP not in getters or IS_PUNCT not in getters:
        lexeme = vocab[lemma]
        return bool(lexeme.is_stop or lexeme.is_punct)
    return bool(getters[IS_STOP](lemma) or getters[IS_PUNCT](lemma))
