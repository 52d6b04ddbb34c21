"""Tables of the rules that clean spaCy's names and places, and of tool words used as names.

Each rule is tested on constructed spaCy results (what the rule decides, whatever the model
would tag) and, where the small model tags the example, through the whole detector.
"""

from __future__ import annotations

import pytest
from cogate.policies.detect.engine import Detector
from cogate.policies.recognizers.name_list import NameListRecognizer
from cogate.policies.recognizers.spacy_names import clean_entity
from cogate.policies.schema import load_policy
from presidio_analyzer import RecognizerResult

ALL = ["PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"]
NO_ORGS = ["PERSON", "LOCATION"]

# (text, spaCy's type, the span spaCy gave, entities looked for, (type, value) kept or None)
CLEANED = [
    # A quoted e-mail's line markers are not code; the trailing marker is cut off.
    (
        ">Maren Holtz\n>Brightwell Ltd.\n>Oskar Lindqvist",
        "PERSON",
        "Maren Holtz\n>Brightwell Ltd.\n>",
        ALL,
        ("PERSON", "Maren Holtz\n>Brightwell Ltd."),
    ),
    (">Tonya Reyes\n>Jo Keller\n>", "PERSON", "Jo Keller\n>", ALL, ("PERSON", "Jo Keller")),
    ("return left > right", "PERSON", "left > right", ALL, None),
    ("if (Maren) {", "PERSON", "Maren) {", ALL, None),
    # Street names in another script on an address line are places.
    (
        "Please deliver it to Λεωφόρος Κηφισίας 124 before noon.",
        "PERSON",
        "Λεωφόρος Κηφισίας",
        ALL,
        ("LOCATION", "Λεωφόρος Κηφισίας"),
    ),
    (
        "Jan Novak\n\n71 Λεωφ. Ηρώων Πολυτεχνείου 19\n Apt. 12",
        "PERSON",
        "Ηρώων Πολυτεχνείου",
        ALL,
        ("LOCATION", "Ηρώων Πολυτεχνείου"),
    ),
    ("Напиши письмо 5 раз.", "PERSON", "Напиши письмо", ALL, None),
    ("Напиши письмо другу.", "LOCATION", "Напиши", ALL, None),
    ("Прочитай Главу Пятую сегодня.", "PERSON", "Главу Пятую", ALL, None),
    # An all-capitals word after a place word is a place, whatever spaCy typed it as.
    (
        "the economy of their home city DOLE: cars and steel",
        "PERSON",
        "DOLE",
        ALL,
        ("LOCATION", "DOLE"),
    ),
    ("Parse the JSON before the HTTP call.", "PERSON", "JSON", ALL, None),
    ("Ask the CTO about the budget.", "PERSON", "CTO", ALL, None),
    # A hashtag with a first name in it is about someone; other camel case stays code.
    (
        "Share it with #OrganicBeautyWithChloe today",
        "PERSON",
        "OrganicBeautyWithChloe",
        ALL,
        ("PERSON", "OrganicBeautyWithChloe"),
    ),
    ("Use #MainHeader in the stylesheet.", "PERSON", "MainHeader", ALL, None),
    ("x#TravelWithChloe = 1", "PERSON", "TravelWithChloe", ALL, None),
    # A lone word before a noun of premises or travel is a place: removed, never an
    # organisation the default policy keeps ("the Smith office" may be someone's).
    ("The Acme office is on the second floor.", "PERSON", "Acme", ALL, ("LOCATION", "Acme")),
    ("The Acme office is on the second floor.", "PERSON", "Acme", NO_ORGS, ("LOCATION", "Acme")),
    ("Plan the Valencia trip.", "PERSON", "Valencia", ALL, ("LOCATION", "Valencia")),
    ("Unlike the Takuda novel, it is short.", "PERSON", "Takuda", ALL, ("PERSON", "Takuda")),
]


@pytest.mark.parametrize(("text", "kind", "span", "entities", "kept"), CLEANED)
def test_spacy_entities_cleaned(text, kind, span, entities, kept) -> None:
    start = text.index(span)
    result = RecognizerResult(kind, start, start + len(span), 0.85)
    out = clean_entity(text, result, entities)
    assert (None if out is None else (out.entity_type, text[out.start : out.end])) == kept


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("I loved the Sage novel more than the film.", "Sage"),
        ("Unlike the Sage novel, it's not long.", "Sage"),
        ("Sage exports the ledger every night.", None),
        ("Echo back the input.", None),
        ("echo the value, then run git status and bash", None),
        ("sage and thyme go in the sauce", None),
    ],
)
def test_tool_words_are_names_only_as_proper_nouns(text: str, name: str | None) -> None:
    found = [text[r.start : r.end] for r in NameListRecognizer().analyze(text, ["PERSON"])]
    assert found == ([name] if name else [])


@pytest.fixture(scope="module")
def every_type() -> Detector:
    return Detector(load_policy(), all_types=True)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("I loved the Sage novel more than the film.", "PERSON", "Sage"),
        ("Meet me at the Smith office at noon.", "LOCATION", "Smith"),
        ("Plan the Valencia trip itinerary for three days.", "LOCATION", "Valencia"),
        ("Share it with #OrganicBeautyWithChloe today", "PERSON", "OrganicBeautyWithChloe"),
    ],
)
def test_detector_types(every_type: Detector, text: str, kind: str, value: str) -> None:
    spans = every_type.detect(text, acting_only=False)
    found = {(s.entity_type, text[s.start : s.end]) for s in spans}
    assert (kind, value) in found
    assert not any(v == value and k != kind for k, v in found)


@pytest.mark.parametrize(
    "text", ["Use #MainHeader in the stylesheet.", "Sage exports the ledger every night."]
)
def test_detector_leaves_code_and_tools(every_type: Detector, text: str) -> None:
    spans = every_type.detect(text, acting_only=False)
    assert not [s for s in spans if s.entity_type in ("PERSON", "LOCATION")]
