"""Presidio's AnalyzerEngine with its per-recognizer regrouping of results done in one pass,
and a registry that names recognizers in a fixed order, the readers of NER's entities last.

Before context enhancement Presidio splits all results into "this recognizer's" and
"everyone else's" once per recognizer (two scans of every result for each of ~40
recognizers), only to hand them to a hook that, for every recognizer cogate runs, returns
its own results unchanged. Grouping by recognizer once gives the same list in the same
order; a recognizer that does override the hook still gets both lists.
"""

from __future__ import annotations

from collections import defaultdict

from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

_ID = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY


def _overrides_hook(recognizer: EntityRecognizer) -> bool:
    return type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context


def reads_entities(recognizer: EntityRecognizer) -> int:
    """When `recognizer` reads the NLP artifacts' entities (spaCy's NER): 0 never, 1 after
    work of its own (a `reads_entities = 1` attribute), 2 at once (spaCy's recognizer)."""
    if isinstance(recognizer, SpacyRecognizer):
        return 2
    return int(getattr(recognizer, "reads_entities", 0))


class NerLastRegistry(RecognizerRegistry):
    """Presidio's registry, answering in its own list's order (Presidio's answer is a set's,
    which varies between processes) with the recognizers that read NER's entities last, the
    one that needs them at once after those with work of their own first: the others run
    while NER is still at work in its own process."""

    def get_recognizers(self, language, entities=None, all_fields=False, ad_hoc_recognizers=None):
        found = super().get_recognizers(language, entities, all_fields, ad_hoc_recognizers)
        listed = [*self.recognizers, *(ad_hoc_recognizers or [])]
        position = {id(recognizer): index for index, recognizer in enumerate(listed)}
        return sorted(found, key=lambda r: (reads_entities(r), position[id(r)]))


class LeanAnalyzerEngine(AnalyzerEngine):
    """`AnalyzerEngine` whose results reach the context enhancer grouped in one pass."""

    def _enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        own_of: dict[str, list[RecognizerResult]] = defaultdict(list)
        for result in raw_results:
            own_of[result.recognition_metadata[_ID]].append(result)
        results: list[RecognizerResult] = []
        for recognizer in recognizers:
            own = list(own_of.get(recognizer.id, ()))
            if _overrides_hook(recognizer):
                others = [r for r in raw_results if r.recognition_metadata[_ID] != recognizer.id]
                own = recognizer.enhance_using_context(
                    text=text,
                    raw_recognizer_results=own,
                    other_raw_recognizer_results=others,
                    nlp_artifacts=nlp_artifacts,
                    context=context,
                )
            results.extend(own)
        return self.context_aware_enhancer.enhance_using_context(
            text=text,
            raw_results=results,
            nlp_artifacts=nlp_artifacts,
            recognizers=recognizers,
            context=context,
        )
