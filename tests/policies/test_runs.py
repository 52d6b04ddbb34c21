"""The licence, passport, DEA and IP recognizers that scan only the runs able to match find
what Presidio's find on the whole text."""

from __future__ import annotations

import random

import pytest
from cogate.policies.detect.analyzer import PRESIDIO_FLAGS
from cogate.policies.detect.runs import (
    RunIpRecognizer,
    RunMedicalLicenseRecognizer,
    RunUsLicenseRecognizer,
    RunUsPassportRecognizer,
)
from presidio_analyzer.predefined_recognizers import (
    IpRecognizer,
    MedicalLicenseRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
)

PAIRS = [
    (UsLicenseRecognizer, RunUsLicenseRecognizer),
    (UsPassportRecognizer, RunUsPassportRecognizer),
    (MedicalLicenseRecognizer, RunMedicalLicenseRecognizer),
    (IpRecognizer, RunIpRecognizer),
]
EDGES = [
    "licence D1234567, dl:X12345678; (H12345678) A1B2C and 12ABC12345",
    "passport 123456789 or C03005988.",
    "DEA AB1234563 / BX9123456 / ab1234563",
    "from 10.2.3.4:8080, 192.168.0.1/24 and ::ffff:10.0.0.1 or fe80::1%eth0 or 2001:db8::7",
    "[2001:db8:0:0:0:0:2:1]:443 :: ::/0 a::b 1.2.3 1.2.3.4.5 999.1.1.1",
    "tab\t1.2.3.4\r\nnbsp\u00a0D1234567\u2003x 123456789\u3000",
    "٣٤٥٦٧٨٩٠١ digits of other scripts: AB١٢٣٤٥٦٣ ١٠.٢.٣.٤",
    "D1234567. D1234567, 'D1234567' D1234567_ _D1234567 D1234567-1",
]


def found(recognizer, text: str) -> list[tuple]:
    return [
        (r.entity_type, r.start, r.end, r.score, r.recognition_metadata["recognizer_name"])
        for r in recognizer.analyze(text, recognizer.supported_entities)
    ]


def texts(seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ["Maria", "lives", "at", "12", "Main", "St.", "call", "x=f(y)", ":", "-", "\n", "  "]
    out = []
    for _ in range(25):
        parts = [rng.choice(words + EDGES) for _ in range(rng.randint(5, 120))]
        out.append(rng.choice(["", " ", "\n", ":", "1"]).join(parts))
    return out


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("stock_type", "run_type"), PAIRS, ids=lambda t: t.__name__)
def test_the_same_findings_as_presidios_recognizer(stock_type, run_type, seed: int) -> None:
    stock, runs = stock_type(), run_type()
    for recognizer in (stock, runs):
        recognizer.global_regex_flags = PRESIDIO_FLAGS  # as the analyzer configures them
    total = 0
    for text in texts(seed) + EDGES:
        expected = found(stock, text)
        assert found(runs, text) == expected, text
        total += len(expected)
    assert total > 20


def test_names_and_context_words_are_the_stock_recognizers() -> None:
    for stock_type, run_type in PAIRS:
        stock, runs = stock_type(), run_type()
        assert (runs.name, runs.context, runs.supported_entities) == (
            stock.name,
            stock.context,
            stock.supported_entities,
        )


def test_a_mask_is_kept_for_its_own_text_only() -> None:
    """Masks live on one text's artifacts: the next text, same length, gets its own."""
    from cogate.policies.detect.engine import Detector
    from cogate.policies.schema import load_policy

    detector = Detector(load_policy(), all_types=True)
    first, second = "ping 10.1.2.3 and go home now", "go home now and ping 10.9.8.7"
    assert len(first) == len(second)
    for text, address in ((first, "10.1.2.3"), (second, "10.9.8.7")):
        found = {text[s.start : s.end] for s in detector.detect(text, acting_only=False)}
        assert address in found
