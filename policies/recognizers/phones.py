"""Presidio's phone recognizer, with libphonenumber's matcher skipping hopeless candidates.

libphonenumber's matcher parses and validates every digit run of a text (timestamps, pids,
byte counts), once per configured region; on agent tool outputs that was over a quarter of
detection. A candidate with fewer digit-like characters than the shortest valid number
any parse could make of it can never match, so it is skipped before parsing. The bound is
derived from libphonenumber's own metadata (never a guess), so the numbers found are the
same as the stock matcher's.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # only for the minimum width of a metadata pattern
from functools import cache

from cogate.policies.recognizers.base import QuickPhoneRecognizer
from phonenumbers import PhoneMetadata, PhoneNumberMatcher
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    SUPPORTED_REGIONS,
    UNKNOWN_REGION,
    country_code_for_region,
    region_code_for_country_code,
)
from presidio_analyzer import EntityRecognizer

_PLUS = re.compile("[+\uff0b]")
_BACKREF = re.compile(r"\\\d|\$\d")


def _metadata(region: str, code: int) -> PhoneMetadata | None:
    if region == "001":  # libphonenumber's code for non-geographic numbers (+800, +881...)
        return PhoneMetadata.metadata_for_nongeo_region(code)
    return PhoneMetadata.metadata_for_region(region)


def _gain(meta: PhoneMetadata) -> int:
    """Digits a national prefix transform rule can add (its literal digits), else 0."""
    rule = meta.national_prefix_transform_rule or ""
    return sum(char.isdigit() for char in _BACKREF.sub("", rule))


def _shortest(meta: PhoneMetadata) -> int:
    # No description of the region's numbers: assume the shortest (skip nothing).
    lengths = meta.general_desc.possible_length if meta.general_desc is not None else ()
    return min((length for length in lengths if length > 0), default=0)


@cache
def _national_min(code: int) -> int:
    """Fewest digits of a valid national number of calling code `code` (any region sharing
    the code can validate it)."""
    metas = [m for r in COUNTRY_CODE_TO_REGION_CODE.get(code, ()) if (m := _metadata(r, code))]
    return min((_shortest(m) for m in metas), default=0)


def _main_gain(code: int) -> int:
    """Digits the transform rule of the region parse uses for `code` (its main one) adds."""
    main = region_code_for_country_code(code)
    meta = _metadata(main, code) if main != UNKNOWN_REGION else None
    return _gain(meta) if meta is not None else 0


@cache
def shortest_international() -> int:
    """Fewest text digits of a valid number written with its calling code (+CC or IDD CC)."""
    return min(
        len(str(code)) + _national_min(code) - _main_gain(code)
        for code in COUNTRY_CODE_TO_REGION_CODE
    )


@cache
def shortest_for(region: str) -> int:
    """Fewest text digits of a valid number read with `region` as the default region: a
    national number of the region's calling code, or an international (IDD) prefix then
    a calling code and number. 0 (skip nothing) for a region the metadata does not know."""
    meta = PhoneMetadata.metadata_for_region(region) if region in SUPPORTED_REGIONS else None
    if meta is None:
        return 0
    code = country_code_for_region(region)
    national = _national_min(code) - max(_gain(meta), _main_gain(code))
    idd = meta.international_prefix
    idd_width = sre_parse.parse(idd).getwidth()[0] if idd else 0
    return max(0, min(national, idd_width + shortest_international()))


def digit_like(candidate: str) -> int:
    """Characters a parse could turn into digits: digits and letters (vanity numbers)."""
    return sum(char.isalnum() for char in candidate)


class ShortCutMatcher(PhoneNumberMatcher):
    """libphonenumber's matcher that does not parse a candidate too short to be valid.

    Every whole candidate and every inner group of one passes through `_parse_and_verify`;
    a skipped one is exactly one that parse + validation would have rejected. (The stock
    matcher also counts each rejection against a budget of 65,535 tries per text, after
    which it stops looking: skipping spends less of it, so on a text long enough to
    exhaust it this finds more, never fewer.)
    """

    def __init__(self, text: str, region: str, leniency: int) -> None:
        super().__init__(text, region, leniency=leniency)
        self._plain = shortest_for(region)
        self._plus = min(self._plain, shortest_international())

    def _extract_match(self, candidate, offset):
        # Every inner group libphonenumber would try is a part of the candidate: none can
        # reach a bound the whole candidate does not.
        if digit_like(candidate) < self._plus:
            return None
        return super()._extract_match(candidate, offset)

    def _parse_and_verify(self, candidate, offset):
        bound = self._plus if _PLUS.search(candidate) else self._plain
        if digit_like(candidate) < bound:
            return None
        return super()._parse_and_verify(candidate, offset)


class FastPhoneRecognizer(QuickPhoneRecognizer):
    """Presidio's phone recognizer over `ShortCutMatcher`: the same numbers, found sooner."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None):
        if sum(char.isdigit() for char in text) < 7:
            return []
        if self.leniency is None:  # libphonenumber's matcher refuses one too
            raise ValueError("the phone recognizer needs a leniency (0 to 3)")
        results = []
        for region in self.supported_regions:
            for match in ShortCutMatcher(text, region, self.leniency):
                results.append(self._get_recognizer_result(match, text, region, nlp_artifacts))
        return EntityRecognizer.remove_duplicates(results)
