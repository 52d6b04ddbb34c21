"""European national identifiers and national-format phone numbers: found whole after their
keyword, validated by python-stdnum / libphonenumber, and not taken from ordinary numbers."""

from __future__ import annotations

from importlib import import_module

import pytest
from cogate.policies.detect.engine import Detector
from cogate.policies.recognizers.europe.national_ids import NATIONAL_IDS, national_id_types
from cogate.policies.schema import load_policy

# A keyword sentence per type, in the type's own language; `{}` is the table's example.
SENTENCES = {
    "DE_TAX_ID": "Meine Steuer-ID ist {}.",
    "DE_ID_CARD": "Personalausweisnummer: {}",
    "DE_VAT_ID": "USt-IdNr.: {}",
    "FR_NIR": "Mon numéro de sécurité sociale est {}.",
    "FR_SIRET": "SIRET {} (siège)",
    "FR_SIREN": "SIREN {}, Paris",
    "ES_NIF": "Mi DNI es {}.",
    "ES_NIE": "Mi NIE es {}.",
    "IT_FISCAL_CODE": "Codice fiscale: {}",
    "IT_VAT_CODE": "Partita IVA {}",
    "NL_BSN": "Mijn BSN is {}.",
    "BE_NATIONAL_NUMBER": "Rijksregisternummer: {}",
    "PL_PESEL": "Numer PESEL: {}",
    "PL_NIP": "NIP {}",
    "PT_NIF": "O meu NIF é {}.",
    "AT_SOCIAL_SECURITY": "Sozialversicherungsnummer {}",
    "CH_AHV": "AHV-Nummer {}",
    "SE_PERSONNUMMER": "Mitt personnummer är {}.",
    "DK_CPR": "CPR-nummer {}",
    "NO_FODSELSNUMMER": "Fødselsnummer: {}",
    "FI_PERSONAL_IDENTITY_CODE": "Henkilötunnus {}",
    "EU_VAT": "TVA intracommunautaire {}",
}


@pytest.fixture(scope="module")
def every_type(detector: Detector) -> Detector:
    return Detector(load_policy(), all_types=True)


def test_every_type_has_a_sentence_and_a_valid_example() -> None:
    assert set(SENTENCES) == set(national_id_types())
    for spec in NATIONAL_IDS:
        if spec.stdnum:
            assert import_module(f"stdnum.{spec.stdnum}").is_valid(spec.example), spec.entity


@pytest.mark.parametrize("spec", NATIONAL_IDS, ids=lambda s: s.entity)
def test_example_after_keyword_is_replaced_whole(detector: Detector, spec) -> None:
    text = SENTENCES[spec.entity].format(spec.example)
    at = text.index(spec.example)
    spans = [s for s in detector.detect(text) if s.start <= at < s.end]
    assert spans, text
    assert spans[0].start <= at and spans[0].end >= at + len(spec.example)
    assert spans[0].entity_type in (spec.entity, "EU_VAT", "DE_VAT_ID")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Meine Steuer-ID ist 65 929 970 489.", "65 929 970 489"),
        ("Steuerliche Identifikationsnummer: 65929970489", "65929970489"),
        ("NIR : 2 87 03 75 115 123 45", "2 87 03 75 115 123 45"),  # wrong key: still an NIR
        ("Mi DNI es 12345678Z y mi NIE X1234567L.", "X1234567L"),
    ],
)
def test_no_group_of_a_number_stays(detector: Detector, text: str, value: str) -> None:
    at = text.index(value)
    assert any(s.start <= at and s.end >= at + len(value) for s in detector.detect(text))


@pytest.mark.parametrize(
    "text",
    [
        "Order 65929970489 shipped on Monday.",  # a valid Steuer-ID shape, no keyword
        "The batch 111222333 finished.",  # a valid BSN, no keyword
        "ref 44051401458 in the log",  # a valid PESEL, no keyword
    ],
)
def test_checksum_alone_is_not_an_identifier(every_type: Detector, text: str) -> None:
    ids = set(national_id_types())
    assert not [s for s in every_type.detect(text, acting_only=False) if s.entity_type in ids]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("+49 151 23456789 oder 0151 23456789", ["+49 151 23456789", "0151 23456789"]),
        ("Appelez au 06 12 34 56 78 ou au 01 42 68 53 00.", ["06 12 34 56 78", "01 42 68 53 00"]),
        ("Bel me op 06 12345678 of 020 123 4567.", ["06 12345678", "020 123 4567"]),
        ("Ring mig på 070-123 45 67.", ["070-123 45 67"]),
        ("Llámame al 612 345 678.", ["612 345 678"]),
    ],
)
def test_national_phone_formats(detector: Detector, text: str, numbers: list[str]) -> None:
    spans = [s for s in detector.detect(text) if s.entity_type == "PHONE_NUMBER"]
    for number in numbers:
        at = text.index(number)
        assert any(s.start <= at and s.end >= at + len(number) for s in spans), number


@pytest.mark.parametrize(
    "text",
    [
        "ts 1712345678 build 20240105",
        "Meeting at 2024-01-05 10:30 and 12.03.2024",
        "upgrade to 1.2.3 then 10.4.12",
    ],
)
def test_not_phone_numbers(every_type: Detector, text: str) -> None:
    found = every_type.detect(text, acting_only=False)
    assert not [s for s in found if s.recognizer == "NationalPhoneRecognizer"]
