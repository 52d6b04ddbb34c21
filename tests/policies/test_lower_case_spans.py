"""NER spans typed in lower case: in an English sentence a known given name (or a name
after a speech verb) and a place on an address line stay; in another language's sentence
a lower-case place is a word of the sentence ("A nova versão…"), not a place."""

from __future__ import annotations

import pytest
from cogate.policies.detect.engine import Detector


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [
        (s.entity_type, text[s.start : s.end]) for s in detector.detect(text, acting_only=False)
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "What's the name on the account? user: dana mitchell Have you been to a "
            "Ronald Aplin concert before?",
            "dana mitchell",
        ),
        (
            "It's under my partner's name Matthew Benavidez follow up with jessica kadyrov "
            "in 2 months. What is the limit?",
            "jessica kadyrov",
        ),
        (
            'Nucci "i\'m glad to hear that el salvador is moving in that direction," says '
            "manna. How do I open my statement?",
            "manna",
        ),
    ],
)
def test_lower_case_name_in_english_stays(detector: Detector, text: str, name: str) -> None:
    assert any(t == "PERSON" and name in v for t, v in found(detector, text))


def test_lower_case_place_on_an_address_line_stays(detector: Detector) -> None:
    text = (
        "the datamyne office is at 21 114 rue sidi apt. 789, valverde de valdelacasa, "
        "swaziland 14385 Zoolander is a 2001 American action-comedy film directed by Mark "
        "Roseby and starring Söderberg We moved here from Arona"
    )
    spans = [v for _, v in found(detector, text)]
    assert any("valverde" in v for v in spans)


@pytest.mark.parametrize(
    "text",
    [
        '2026-11-05T12:33:44Z INFO job=report-3 msg="A nova versão corrige três erros." '
        "took_ms=123",
        "A nova versão corrige três erros.",
    ],
)
def test_lower_case_word_of_a_foreign_sentence_is_no_place(detector: Detector, text: str) -> None:
    assert [v for t, v in found(detector, text) if t in ("LOCATION", "PERSON")] == []


def test_phone_before_a_hex_looking_word_stays(detector: Detector) -> None:
    # `-Fax` holds the hex letters F and a: the number is no hex identifier for all that.
    text = "25 833387-Office\\,001-432-815-4117-Fax My religion does not allow speaking to bots"
    assert ("PHONE_NUMBER", "001-432-815-4117") in found(detector, text)
