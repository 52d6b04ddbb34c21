"""Presidio's digit- and colon-bound pattern recognizers run only on the runs that can match.

The licence, passport, DEA-number and IP patterns cannot match whitespace, and every
match holds a digit (licence, passport, DEA) or a digit or a colon (IPv4 and IPv6). So
each match lies inside one maximal whitespace-free run holding such a character. At a
run's edges the whole text has whitespace, and their boundary checks (`\\b`, one-character
lookarounds over word characters, colons and dots) answer the same for whitespace as for
the run's own ends, so scanning those runs alone finds the same matches as scanning the
text: prose has few of them. The other runs are blanked, not cut out, so offsets stay.
"""

from __future__ import annotations

import re

from cogate.policies.detect.artifacts import LeanArtifacts
from presidio_analyzer import PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    IpRecognizer,
    MedicalLicenseRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
)

_RUN = re.compile(r"\S+")
_DIGIT = re.compile(r"\d")
_DIGIT_OR_COLON = re.compile(r"[\d:]")


def masked(text: str, needed: re.Pattern[str]) -> str:
    """`text` with every whitespace-free run lacking a `needed` character turned to spaces.

    Same length, and what is kept sits between the same whitespace, so one scan of the
    mask finds the matches in their place (scanning each run alone costs more in Python
    calls than it saves).
    """
    return _RUN.sub(
        lambda run: run.group() if needed.search(run.group()) else " " * len(run.group()), text
    )


def masked_once(text: str, needed: re.Pattern[str], nlp_artifacts) -> str:
    """`masked`, made once per analysed text: the mask is kept on that text's artifacts,
    which live as long as its analysis (no text outlives the request that sent it)."""
    if not isinstance(nlp_artifacts, LeanArtifacts):
        return masked(text, needed)
    mask = nlp_artifacts.masks.get(needed.pattern)
    if mask is None:
        mask = nlp_artifacts.masks[needed.pattern] = masked(text, needed)
    return mask


def scan_runs(
    recognizer: PatternRecognizer,
    needed: re.Pattern[str],
    text: str,
    entities: list[str],
    nlp_artifacts=None,
    regex_flags: int | None = None,
) -> list[RecognizerResult]:
    """`recognizer`'s own pattern scan of the runs holding a `needed` character."""
    # The stock recognizers keep PatternRecognizer's scan (none of them overrides it); a
    # match covers kept characters only, so its text and offsets are the original's.
    return PatternRecognizer.analyze(
        recognizer, masked_once(text, needed, nlp_artifacts), entities, nlp_artifacts, regex_flags
    )


class _RunScan(PatternRecognizer):
    """A stock pattern recognizer (named as Presidio names it) scanning only the runs that
    hold a `needed` character."""

    needed: re.Pattern[str]
    stock_name: str

    def __init__(self) -> None:
        # The next class in the MRO is the stock recognizer, whose arguments all have
        # defaults; mypy sees PatternRecognizer's.
        super().__init__(name=self.stock_name)  # type: ignore[call-arg]

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        return scan_runs(self, self.needed, text, entities, nlp_artifacts, regex_flags)


class RunUsLicenseRecognizer(_RunScan, UsLicenseRecognizer):
    needed, stock_name = _DIGIT, "UsLicenseRecognizer"


class RunUsPassportRecognizer(_RunScan, UsPassportRecognizer):
    needed, stock_name = _DIGIT, "UsPassportRecognizer"


class RunMedicalLicenseRecognizer(_RunScan, MedicalLicenseRecognizer):
    needed, stock_name = _DIGIT, "MedicalLicenseRecognizer"


class RunIpRecognizer(_RunScan, IpRecognizer):
    needed, stock_name = _DIGIT_OR_COLON, "IpRecognizer"
