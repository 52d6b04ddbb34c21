"""The analyzer engine that groups results in one pass hands the context enhancer exactly
the list Presidio's engine does."""

from __future__ import annotations

from cogate.policies.detect.engine import Detector
from cogate.policies.detect.registry import LeanAnalyzerEngine
from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer

TEXTS = [
    "Call Maria Kowalski at 555-0100 or write to maria@example.com; SSN 078-05-1120.",
    "    # TODO(Jonas Lindqvist): key sk-proj-abcdefghijklmnopqrstuvwx\n" * 3
    + "2026-11-05T12:30:44Z INFO login ok for priya.okafor@example.org from 10.2.3.4\n",
]


class Recorder:
    """A context enhancer that keeps what it was given and changes nothing."""

    def __init__(self) -> None:
        self.seen: list[list[tuple]] = []

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        self.seen.append(
            [
                (r.entity_type, r.start, r.end, r.score, r.recognition_metadata["recognizer_name"])
                for r in raw_results
            ]
        )
        return raw_results


class Boosting(PatternRecognizer):
    """A recognizer that uses the hook: its results gain when others found something."""

    def enhance_using_context(
        self, text, raw_recognizer_results, other_raw_recognizer_results, nlp_artifacts, context
    ):
        for result in raw_recognizer_results:
            result.score += 0.1 * min(len(other_raw_recognizer_results), 3)
        return raw_recognizer_results


def test_the_enhancer_gets_presidios_list(detector: Detector) -> None:
    analyzer = detector.analyzer
    seen = []
    for engine_type in (AnalyzerEngine, LeanAnalyzerEngine):
        recorder = Recorder()
        engine = engine_type(
            registry=analyzer.registry,
            nlp_engine=analyzer.nlp_engine,
            supported_languages=["en"],
            context_aware_enhancer=recorder,  # type: ignore[arg-type]
        )
        boosting = Boosting("TICKET", patterns=[Pattern("todo", r"TODO", 0.3)], name="Boost")
        for text in TEXTS:
            engine.analyze(text, language="en", ad_hoc_recognizers=[boosting])
        seen.append(recorder.seen)
    assert seen[0] == seen[1]
    assert any(name == "Boost" and score > 0.3 for *_, score, name in seen[1][1])
    assert len({name for *_, name in seen[1][1]}) > 3
