"""Presidio's NLP artifacts with the context keywords worked out once per distinct lemma.

Presidio asks the spaCy vocabulary whether each token's lemma is a stop word or
punctuation, token by token; an agent's tool output repeats the same few thousand words,
so deciding each distinct lemma once gives the same keyword list for a fraction of the
lookups.
"""

from __future__ import annotations

from presidio_analyzer.nlp_engine import NlpArtifacts


class LeanArtifacts(NlpArtifacts):
    """`NlpArtifacts` whose keyword list is computed with one decision per distinct lemma."""

    @staticmethod
    def set_keywords(nlp_engine, lemmas: list[str], language: str) -> list[str]:
        if not nlp_engine:
            return []
        parts_of: dict[str, list[str]] = {}
        keywords: list[str] = []
        for lemma in lemmas:
            parts = parts_of.get(lemma)
            if parts is None:
                parts = parts_of[lemma] = _keyword_parts(nlp_engine, lemma, language)
            keywords += parts
        return keywords


def _keyword_parts(nlp_engine, lemma: str, language: str) -> list[str]:
    # Presidio's rule: no stop words, punctuation, "-PRON-" or "be"; lower-cased, and
    # split at colons (so `user:maria` offers both words as context).
    if lemma in ("-PRON-", "be"):
        return []
    if nlp_engine.is_stopword(lemma, language) or nlp_engine.is_punct(lemma, language):
        return []
    return lemma.lower().split(":")
