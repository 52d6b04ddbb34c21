"""The phone matcher that skips hopeless candidates finds exactly what libphonenumber's finds."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from cogate.policies.recognizers.base import QuickPhoneRecognizer
from cogate.policies.recognizers.phones import FastPhoneRecognizer, ShortCutMatcher, shortest_for
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import SUPPORTED_REGIONS

FORMATS = (PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL, PhoneNumberFormat.E164)
# Digit runs of agent tool outputs that are not phone numbers, and near-misses that are.
NOISE = [
    "2026-11-05T12:30:44.123Z INFO pid=4411 latency_ms=12 bytes=48213",
    "version 3.11.4 build 20261105 sha 9f3ab27c41 port 8080",
    "+43 1234 and +49 30 1 and +683 4002 and 0800 1111 and 911",
    "call 555-0100 or (020) 7946 0958 or 12x34x56x78 ext. 9",
    "id 4111 1111 1111 1111, ref 12/10/2026, pages 211-227 (2003)",
]


def example_numbers(region: str) -> list[str]:
    """libphonenumber's example number of every type of `region`, in three formats."""
    out = []
    for kind in vars(PhoneNumberType).values():
        if not isinstance(kind, int):
            continue
        number = phonenumbers.example_number_for_type(region, kind)
        if number is not None:
            out += [phonenumbers.format_number(number, fmt) for fmt in FORMATS]
    return out


def corpus(seed: int) -> list[str]:
    """Texts mixing every region's example numbers with digit runs that are not numbers."""
    rng = random.Random(seed)
    texts = []
    for region in sorted(SUPPORTED_REGIONS):
        parts = example_numbers(region) + NOISE
        rng.shuffle(parts)
        # Trimmed numbers (a digit short) test the edge of each bound.
        parts += [p[:-1] for p in parts[:6]]
        texts.append(" ; ".join(parts))
    return texts


def found(recognizer, text: str) -> list[tuple[int, int, float]]:
    return sorted((r.start, r.end, r.score) for r in recognizer.analyze(text, ["PHONE_NUMBER"]))


@pytest.mark.parametrize("regions", [["US", "GB"], ["DE", "AT", "NF", "GG"]])
def test_the_same_numbers_as_libphonenumbers_matcher(regions: list[str]) -> None:
    stock, fast = QuickPhoneRecognizer(regions), FastPhoneRecognizer(regions)
    texts = corpus(seed=len(regions))
    total = 0
    for text in texts:
        expected = found(stock, text)
        assert found(fast, text) == expected, text
        total += len(expected)
    assert total > 500  # the corpus is full of valid numbers, not only misses


def test_each_region_matcher_equals_the_stock_one_on_agent_output() -> None:
    log = "\n".join(
        f"2026-11-{d:02d}T{d % 24:02d}:{d % 60:02d}:{d:02d}.{d * 7:03d}Z pid={1000 + d * 37} "
        f"bytes={d * 977} v{d}.{d % 7}.{d % 3} call +44 20 7946 0{d:03d}"
        for d in range(1, 200)
    )
    for region in ("US", "GB", "FR", "IN", "BR"):
        stock = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(log, region)]
        assert [(m.start, m.end) for m in ShortCutMatcher(log, region, 1)] == stock
        assert stock  # the +44 numbers are found in every region


def test_the_bounds_come_from_the_metadata() -> None:
    # US numbers are ten digits; GB's shortest valid national numbers are seven; a region
    # the metadata does not know skips nothing.
    assert shortest_for("US") == 7  # a NANPA number of another region can be shorter
    assert shortest_for("GB") == 7
    assert shortest_for("ZZ") == 0
