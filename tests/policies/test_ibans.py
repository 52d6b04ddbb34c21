"""A spaced IBAN is found whole, and only the IBAN, when a word follows it (a log line's next
key, a word of prose), validated by python-stdnum; a look-alike with wrong check digits
is not taken as an IBAN."""

from __future__ import annotations

import pytest
from cogate.policies.detect.engine import Detector

ES = "ES56 4652 2308 7547 9102 5727"
SE = "SE17 1333 3931 6099 2279 5794"
DE = "DE89 3704 0044 0532 0130 00"


def ibans(detector: Detector, text: str) -> list[str]:
    return [
        text[s.start : s.end]
        for s in detector.detect(text, acting_only=False)
        if s.entity_type == "IBAN_CODE"
    ]


@pytest.mark.parametrize("value", [ES, SE, DE])
@pytest.mark.parametrize(
    "frame",
    [
        "2026-11-05T12:30:44Z INFO crm iban={v} action=update",
        "Transfer it to {v} tomorrow please.",
        "IBAN: {v}",
    ],
)
def test_spaced_iban_before_a_word(detector: Detector, frame: str, value: str) -> None:
    assert ibans(detector, frame.format(v=value)) == [value]


def test_wrong_check_digits_are_no_iban(detector: Detector) -> None:
    text = "2026-11-05T12:30:44Z INFO crm iban=ES57 4652 2308 7547 9102 5727 action=update"
    assert ibans(detector, text) == []
