"""Other languages than English: names in code and tool output, and no findings in ordinary
sentences that the English NER misreads (per sentence, so an English prompt keeps its NER)."""

from __future__ import annotations

import pytest
from cogate.policies.detect.engine import Detector


def people(detector: Detector, text: str) -> list[str]:
    return [text[s.start : s.end] for s in detector.detect(text) if s.entity_type == "PERSON"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('User(name="Sofía Martínez")', "Sofía Martínez"),
        ('{"customer_name": "Giulia Rossi", "tier": 2}', "Giulia Rossi"),
        ("2026-11-05 INFO crm customer_name=Piotr Nowak action=update", "Piotr Nowak"),
        ("Author: Jan Lis <jan.lis@example.com>", "Jan Lis"),
        ("Signed-off-by: Małgorzata Kowalska <mk@example.com>", "Małgorzata Kowalska"),
        ("INSERT INTO users VALUES (7, 'Lucas Becker', 'de');", "Lucas Becker"),
    ],
)
def test_names_in_code(detector: Detector, text: str, name: str) -> None:
    assert name in people(detector, text)


def test_product_trailer_is_no_person(detector: Detector) -> None:
    assert people(detector, "Co-Authored-By: Claude Opus 4.8 <noreply@anthropic.com>") == []


@pytest.mark.parametrize(
    "text",
    [
        "Les coûts ont augmenté de douze pour cent.",
        "Kostnaderna steg med tolv procent.",
        "Spotkanie przełożono na przyszły tydzień.",
        "Llámame cuando puedas, por favor.",
        "Sehr geehrte Damen und Herren, der Bericht ist fertig.",
    ],
)
def test_ordinary_sentences_have_no_people_or_places(detector: Detector, text: str) -> None:
    assert detector.detect(text) == []


def test_names_in_foreign_prose(detector: Detector) -> None:
    text = "Per favore manda il documento a Marco Bianchi domani."
    assert people(detector, text) == ["Marco Bianchi"]
