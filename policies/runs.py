"""Presidio's digit- and colon-bound pattern recognizers run only on the runs that can match.

The licence, passport, DEA-number and IP patterns cannot match whitespace, and every
match holds a digit (licence, passport, DEA) or a digit or a colon (IPv4 and IPv6). So
each match lies inside one maximal whitespace-free run holding such a character. At a
run's edges the whole text has whitespace, and their boundary checks (`\\b`, one-character
lookarounds over word characters, colons and dots) answer the same for whitespace as for
the run's own ends, so scanning those runs alone finds the same matches as scanning the
text: prose has few of them.
"""

from __future__ import annotations

import functools
import re

from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    IpRecognizer,
    MedicalLicenseRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
)

_RUN_WITH_DIGIT = re.compile(r"\S*\d\S*")
_RUN_WITH_DIGIT_OR_COLON = re.compile(r"\S*[\d:]\S*")


def scan_runs(
    recognizer: PatternRecognizer,
    runs: re.Pattern[str],
    text: str,
    entities: list[str],
    nlp_artifacts=None,
    regex_flags: int | None = None,
) -> list[RecognizerResult]:
    """`recognizer`'s own pattern scan over each run `runs` finds, offsets in `text`."""
    results: list[RecognizerResult] = []
    # The stock recognizers keep PatternRecognizer's scan (none of them overrides it).
    scan = functools.partial(PatternRecognizer.analyze, recognizer)
    for run in runs.finditer(text):
        offset = run.start()
        for result in scan(run.group(), entities, nlp_artifacts, regex_flags):
            result.start += offset
            result.end += offset
            results.append(result)
    # Presidio's scan of the whole text ends with this too (it also orders the results).
    return EntityRecognizer.remove_duplicates(results) if results else results


class RunUsLicenseRecognizer(UsLicenseRecognizer):
    """`UsLicenseRecognizer` scanning only whitespace-free runs with a digit."""

    def __init__(self) -> None:
        super().__init__(name="UsLicenseRecognizer")

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        return scan_runs(self, _RUN_WITH_DIGIT, text, entities, nlp_artifacts, regex_flags)


class RunUsPassportRecognizer(UsPassportRecognizer):
    """`UsPassportRecognizer` scanning only whitespace-free runs with a digit."""

    def __init__(self) -> None:
        super().__init__(name="UsPassportRecognizer")

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        return scan_runs(self, _RUN_WITH_DIGIT, text, entities, nlp_artifacts, regex_flags)


class RunMedicalLicenseRecognizer(MedicalLicenseRecognizer):
    """`MedicalLicenseRecognizer` scanning only whitespace-free runs with a digit."""

    def __init__(self) -> None:
        super().__init__(name="MedicalLicenseRecognizer")

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        return scan_runs(self, _RUN_WITH_DIGIT, text, entities, nlp_artifacts, regex_flags)


class RunIpRecognizer(IpRecognizer):
    """`IpRecognizer` scanning only whitespace-free runs with a digit or a colon."""

    def __init__(self) -> None:
        super().__init__(name="IpRecognizer")

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        return scan_runs(self, _RUN_WITH_DIGIT_OR_COLON, text, entities, nlp_artifacts, regex_flags)
