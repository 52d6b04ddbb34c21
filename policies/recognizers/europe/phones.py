"""Phone numbers written in a European country's national format (no `+`), checked by
libphonenumber against each of those countries' numbering plans.

The policy's `phone_regions` are matched by Presidio's recognizer; numbers with `+` or `00`
are found for every region there. A German "0151 23456789" or a Spanish "612 345 678" is
neither. Each candidate digit run is parsed as a national number of the regions below; it
is taken when one of them says it is a valid number and it is written like one: with the
trunk prefix 0, or in spaced groups. A bare run of digits with neither (an order id, a Unix
timestamp) is never taken, nor a date or a version string.
"""

from __future__ import annotations

import re

import phonenumbers
from presidio_analyzer import EntityRecognizer, RecognizerResult

# Regions whose national numbers start with the trunk prefix 0 (or, in Italy, a landline's 0).
TRUNK_REGIONS = ("DE", "FR", "NL", "BE", "AT", "CH", "SE", "FI", "IT", "GB", "IE")
# Regions without a trunk prefix: their numbers are taken in spaced groups only.
PLAIN_REGIONS = ("ES", "PT", "PL", "DK", "NO", "IT", "LU")
TRUNK_SCORE = 0.55
PLAIN_SCORE = 0.45

_CANDIDATE = re.compile(
    r"(?<![\w+\-./,])(?<!\d )\(?\d[\d \-./()]{5,18}\d(?![\w:]|[\-./:]\d|,\d| \d)"
)
_DATE = re.compile(
    r"(?:19|20)\d{2}[./\-]\d{1,2}[./\-]\d{1,2}|\d{1,2}[./\-]\d{1,2}[./\-](?:19|20)\d{2}"
)
_PAIRS = re.compile(r"0\d(?:\.\d\d){4}")
_SPACED = re.compile(r"\d+(?: \d+)+")
_EIGHT_DIGITS = re.compile(r"(?:\D*\d){8}")  # a scan in C, not a Python loop per character
_DOTTED = re.compile(r"\d{1,3}(?:\.\d{1,3}){2,}")  # versions and IP addresses


def _plausible(candidate: str) -> bool:
    digits = sum(char.isdigit() for char in candidate)
    if not 8 <= digits <= 13:
        return False
    if _DATE.search(candidate):
        return False
    # "06.12.34.56.78" is a French number; "1.2.3.4" and "10.0.0.1" are not.
    return not _DOTTED.fullmatch(candidate) or bool(_PAIRS.fullmatch(candidate))


def _valid_in(candidate: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(number, region):
            return True
    return False


class NationalPhoneRecognizer(EntityRecognizer):
    """European phone numbers in national format, validated by libphonenumber."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], name="NationalPhoneRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        if not _EIGHT_DIGITS.match(text):
            return []
        out = []
        for match in _CANDIDATE.finditer(text):
            candidate = match.group().rstrip(" -./(")
            if not _plausible(candidate):
                continue
            bare = candidate.lstrip("(")
            if bare.startswith("0"):
                ok, score = _valid_in(candidate, TRUNK_REGIONS), TRUNK_SCORE
            elif _SPACED.fullmatch(candidate):
                ok, score = _valid_in(candidate, PLAIN_REGIONS), PLAIN_SCORE
            else:
                continue
            if ok:
                start = match.start()
                out.append(
                    RecognizerResult(
                        "PHONE_NUMBER",
                        start,
                        start + len(candidate),
                        score,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,  # type: ignore[has-type]
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
        return out
