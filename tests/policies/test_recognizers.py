"""Recognizer tables: (text, type, value found) positives and (text, type) negatives."""

from __future__ import annotations

import pytest
from cogate.policies.recognizers.name_list import NameListRecognizer
from cogate.policies.recognizers.project import project_recognizers

from .conftest import chat, exchange

# (recognizer, text, entity type, the value that must be found exactly)
POSITIVE = [
    (
        "openai_api_key",
        "export OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
        "SECRET",
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
    ),
    ("aws_access_key_id", "aws id AKIAIOSFODNN7EXAMPLE here", "SECRET", "AKIAIOSFODNN7EXAMPLE"),
    (
        "github_token",
        "token ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ ok",
        "SECRET",
        "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    ),
    ("gitlab_token", "use glpat-abcdefghijklmnopqrst now", "SECRET", "glpat-abcdefghijklmnopqrst"),
    ("slack_token", "bot xoxb-1234567890-abcdefghij", "SECRET", "xoxb-1234567890-abcdefghij"),
    (
        "jwt",
        "Authorization: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w",
        "SECRET",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w",
    ),
    (
        "pem_private_key",
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n"
        "-----END RSA PRIVATE KEY-----\nthanks",
        "SECRET",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ),
    (
        "url_password",
        "db at postgres://admin:S3cr3tPass@db.internal:5432/app",
        "SECRET",
        "S3cr3tPass",
    ),
    ("password_assignment", "my password: hunter22 ok", "SECRET", "hunter22"),
    ("keyword_token", "api_key = 9f8A7b6C5d4E3f2G1h0IjKlM", "SECRET", "9f8A7b6C5d4E3f2G1h0IjKlM"),
    (
        "obfuscated_email",
        "write to jane[at]example[dot]org please",
        "EMAIL_ADDRESS",
        "jane[at]example[dot]org",
    ),
    (
        "obfuscated_email",
        "mail john dot smith at example dot com today",
        "EMAIL_ADDRESS",
        "john dot smith at example dot com",
    ),
    (
        "obfuscated_email",
        "jane (at) example (dot) co (dot) uk",
        "EMAIL_ADDRESS",
        "jane (at) example (dot) co (dot) uk",
    ),
    (
        "spaced_card",
        "card 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 thanks",
        "CREDIT_CARD",
        "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
    ),
    (
        "profile_name",
        "Age: 47\nName: Isabel Martinez\nOccupation: agent",
        "PERSON",
        "Isabel Martinez",
    ),
    ("profile_location", "Location: Miami, Florida\n", "LOCATION", "Miami, Florida"),
    (
        "introduction",
        "Hello, my name is Isabel Martinez and I sell houses.",
        "PERSON",
        "Isabel Martinez",
    ),
    ("title", "Please ask Dr. Okonkwo about it.", "PERSON", "Dr. Okonkwo"),
    ("title", "Hello, this is Mr. Derek Crnić. Who are you?", "PERSON", "Mr. Derek Crnić"),
    ("title", "hello, this is mr. chad farmer. who are you?", "PERSON", "mr. chad farmer"),
    ("introduction", "My name is Andrew but everyone calls me Kateřina", "PERSON", "Kateřina"),
    ("introduction", "sometimes people call me philipp", "PERSON", "philipp"),
    ("greeting", "Hi Torben, I'm writing about my order.", "PERSON", "Torben"),
    ("possessive", "Here is Zlata's address: 12 Main Street", "PERSON", "Zlata"),
    ("country", "She flew in from Kyrgyzstan yesterday.", "LOCATION", "Kyrgyzstan"),
    ("street_address", "Send it to 221 Baker Street tomorrow.", "LOCATION", "221 Baker Street"),
    ("address_unit", "that is Suite 322 on the left", "LOCATION", "Suite 322"),
    ("phone_digits", "They're not answering at 166-684-7899 today", "PHONE_NUMBER", "166-684-7899"),
    # Presidio's own, as configured by cogate
    (
        "EmailRecognizer",
        "reach me at isabel.martinez@example.com.",
        "EMAIL_ADDRESS",
        "isabel.martinez@example.com",
    ),
    ("PhoneRecognizer", "Phone: +49 30 1234567", "PHONE_NUMBER", "+49 30 1234567"),
    ("PhoneRecognizer", "my number is 0044 20 7946 0958", "PHONE_NUMBER", "0044 20 7946 0958"),
    (
        "IbanRecognizer",
        "IBAN DE89 3704 0044 0532 0130 00",
        "IBAN_CODE",
        "DE89 3704 0044 0532 0130 00",
    ),
    ("UsSsnRecognizer", "my ssn is 536-22-8726", "US_SSN", "536-22-8726"),
    ("CreditCardRecognizer", "card 4111-1111-1111-1111", "CREDIT_CARD", "4111-1111-1111-1111"),
    ("SpacyRecognizer", "Please contact Sarah O'Connor tomorrow.", "PERSON", "Sarah O'Connor"),
]

# (recognizer's type, text with look-alikes but nothing of that type)
NEGATIVE = [
    ("SECRET", "The token is expired, please log in again."),
    ("SECRET", "skip-connections and sk-learn are unrelated"),
    ("SECRET", "AKIA is not a key, nor is AKIA123"),
    ("SECRET", "use a password manager"),
    ("SECRET", "the api key field is empty"),
    ("SECRET", "read https://example.com/docs/v2/install"),
    ("EMAIL_ADDRESS", "we met at the station at noon"),
    ("EMAIL_ADDRESS", "look at the results dot by dot"),
    ("CREDIT_CARD", "order 1234 5678 9012 3456 failed"),  # not Luhn-valid
    ("PERSON", "I am happy to help."),
    ("PERSON", "this is Great news"),
    ("PERSON", "Hello World, this is a test program."),
    ("PERSON", "write mr. or ms. before the name"),
    ("PERSON", "my name is not important"),
    ("PERSON", "Ship it to 92 Eusebio Dávila 57, Pyrga"),  # a street named after someone
    ("PERSON", "Send it to 40 rue Victor Hugo, Paris."),
    ("PERSON", "We flew from El Salvador to Israel."),
    ("PERSON", "The Princess Royal arrived this morning."),
    ("PERSON", "Davis Ltd. is hiring"),
    ("LOCATION", "set the value to 42 and move on"),
    ("PHONE_NUMBER", "released on 2023-01-04 at 14:56"),
    ("PHONE_NUMBER", "version 1.2.3 and 4.5.6"),
]


OWN = {rule.name for r in project_recognizers() for rule in getattr(r, "rules", [])}


@pytest.mark.parametrize(
    ("recognizer", "text", "entity", "value"),
    POSITIVE,
    ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVE)],
)
def test_positive(detector, recognizer: str, text: str, entity: str, value: str) -> None:
    if recognizer in OWN:  # the rule itself finds it (Presidio may merge it with another)
        found = {
            (r.entity_type, text[r.start : r.end])
            for own in project_recognizers()
            for r in own.analyze(text, [])
            if r.recognition_metadata["recognizer_name"] == recognizer
        }
    else:
        found = {
            (s.entity_type, text[s.start : s.end])
            for s in detector.raw(text)
            if s.recognizer == recognizer
        }
    assert (entity, value) in found, found
    # ...and the policy acts on (at least) the whole value
    spans = detector.detect(text)
    start = text.index(value)
    assert any(s.start <= start and s.end >= start + len(value) for s in spans)


@pytest.mark.parametrize(
    ("entity", "text"), NEGATIVE, ids=[f"{n[0]}-{i}" for i, n in enumerate(NEGATIVE)]
)
def test_negative(detector, entity: str, text: str) -> None:
    found = [s for s in detector.detect(text) if s.entity_type == entity]
    assert not found, [(s.entity_type, s.recognizer) for s in found]


def test_findings_never_carry_the_value(detector) -> None:
    text = "mail isabel.martinez@example.com"
    for span in detector.raw(text):
        assert "isabel" not in repr(span)


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("mail j.doe@exam\u200bple.com now", "EMAIL_ADDRESS", "j.doe@exam\u200bple.com"),
        ("mail j\u2060.doe@example.com now", "EMAIL_ADDRESS", "j\u2060.doe@example.com"),
        ("tag\U000e0041 j.doe@example.com", "EMAIL_ADDRESS", "j.doe@example.com"),
        (
            "call +\uff14\uff14 \uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff19\uff15\uff18",
            "PHONE_NUMBER",
            "+\uff14\uff14 \uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff19\uff15\uff18",
        ),
        (
            "card \uff14\uff11\uff11\uff11-1111-1111-1111!",
            "CREDIT_CARD",
            "\uff14\uff11\uff11\uff11-1111-1111-1111",
        ),
        (
            "key sk-proj-Ab3dEf6hIj9kL\u200bm2nOp5qRs8tUv1w end",
            "SECRET",
            "sk-proj-Ab3dEf6hIj9kL\u200bm2nOp5qRs8tUv1w",
        ),
    ],
)
def test_normalised_forms_map_back_to_the_original(detector, text, entity, value) -> None:
    spans = [s for s in detector.detect(text) if s.entity_type == entity]
    assert [text[s.start : s.end] for s in spans] == [value]


def test_custom_recognizers_and_allow_list(make_privacy) -> None:
    privacy = make_privacy(
        "custom:\n"
        "  - {name: projects, entity: PROJECT, deny_list: [Bluebird]}\n"
        "  - {name: employee, entity: EMPLOYEE_ID, regex: '\\bEMP-\\d{6}\\b', score: 0.9}\n"
        "allow_list: [Paris]\n"
    )
    detector = privacy.detector(privacy.policy)
    text = "Project bluebird, owner EMP-123456, office in Paris."
    found = {(s.entity_type, text[s.start : s.end]) for s in detector.detect(text)}
    assert ("PROJECT", "bluebird") in found
    assert ("EMPLOYEE_ID", "EMP-123456") in found
    assert not any(value == "Paris" for _, value in found)


def test_thresholds_per_type(make_privacy) -> None:
    privacy = make_privacy("thresholds: {PHONE_NUMBER: 0.99}\n")
    detector = privacy.detector(privacy.policy)
    assert not [
        s for s in detector.detect("Phone: +49 30 1234567") if s.entity_type == "PHONE_NUMBER"
    ]


NAMES = [
    ("Please forward it to Isabel Martinez today.", "Isabel Martinez"),
    ("Thanks, Georgina", "Georgina"),
    ("You can tell Alterio was a fan of Susan Lynn", "Susan Lynn"),
    (">Tina Alexandrov >18 Millicent Drive", "Tina Alexandrov"),  # surname not in the list
    ("Teresa de Vaan will be talking", "Teresa de Vaan"),
    ("commenter Paul van der Voet points out", "Paul van der Voet"),
    ("They had 3: Malon, Mark and Kaylee.", "Malon"),  # a list with known names
    ("have you been to a david lange concert before?", "david lange"),  # typed in lower case
]


@pytest.mark.parametrize(("text", "value"), NAMES)
def test_name_list_positive(text: str, value: str) -> None:
    found = {text[r.start : r.end] for r in NameListRecognizer().analyze(text, [])}
    assert value in found


@pytest.mark.parametrize(
    "text",
    [
        "Will you help me?",
        "Grace under pressure",
        "See PA roads",
        "In Israel they sing",
        "She grew up in El Salvador",
        "The Princess Royal arrived",
        "Davis Ltd. is hiring",
        "Send it to 40 rue Victor Hugo",  # a street (LOCATION when asked for)
        "Wisdom, Courage and Hope",  # a list without a name in it
        "i will grant you that",  # lower case: everyday words, not names
    ],
)
def test_name_list_negative(text: str) -> None:
    assert NameListRecognizer().analyze(text, []) == []


PHONES = [
    ("They're not answering at 785 8949", "785 8949"),
    ("Office\\,001-748-088-2851x818-Fax", "001-748-088-2851x818"),
    ("Tanzania 53144 06-10446904-Office", "06-10446904"),
]


@pytest.mark.parametrize(("text", "value"), PHONES)
def test_phone_context_rules(detector, text: str, value: str) -> None:
    start = text.index(value)
    spans = [s for s in detector.detect(text) if s.entity_type == "PHONE_NUMBER"]
    assert any(s.start <= start and s.end >= start + len(value) for s in spans)


def test_nhs_numbers_need_a_health_context(detector) -> None:
    with_context = "my NHS number is 943 476 5919"
    assert [s.entity_type for s in detector.detect(with_context)] == ["UK_NHS"]
    phone = "call 169-825-3303"  # passes the NHS checksum, but is a phone number here
    assert [s.entity_type for s in detector.detect(phone)] == ["PHONE_NUMBER"]


def test_spacy_names_lose_the_address_run_into_them(detector) -> None:
    text = "Mrs. Diana Weöres Apt. 434 40 Rue de la Sarthe 421 Housse"
    persons = [text[s.start : s.end] for s in detector.detect(text) if s.entity_type == "PERSON"]
    assert persons == ["Mrs. Diana Weöres"]


def test_name_list_types_streets_named_after_people_as_places() -> None:
    text = "Send it to 40 rue Victor Hugo"
    found = NameListRecognizer().analyze(text, ["PERSON", "LOCATION"])
    assert [(r.entity_type, text[r.start : r.end]) for r in found] == [("LOCATION", "Victor Hugo")]


def test_symbols_spacy_tags_are_neither_names_nor_places(make_privacy) -> None:
    privacy = make_privacy("mode: redact\n")
    for text in ("¦", "x ¦ y", "\\¦"):
        ex = exchange("chat/completions", chat(("user", text)))
        privacy.resolve(ex)
        privacy.sanitize(ex)
        assert ex.findings == [], text


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("account: 123456789012", True),
        ('{"account": 123456789012}', True),
        ("My account number is 0012 3456 7890.", True),
        ("acct no. 98765432", True),
        ("order 12345678 shipped", False),
        ("account settings page 2", False),
        ("account id 1234567", False),  # seven digits: an id, not a bank account
    ],
)
def test_bank_account_numbers_after_an_account_word(make_privacy, text, found) -> None:
    privacy = make_privacy("mode: redact\n")
    ex = exchange("chat/completions", chat(("user", text)))
    privacy.resolve(ex)
    privacy.sanitize(ex)
    assert ("US_BANK_NUMBER" in {f.entity_type for f in ex.findings}) is found


@pytest.mark.parametrize(
    ("text", "places"),
    [
        # The street is found too since the French street rule (issue 26).
        ("His address: 94 19 rue La Boétie, PARIS", ["19 rue La Boétie", "PARIS"]),
        ("Напиши письмо другу.", []),
        ("Parse the JSON before the HTTP call.", []),
    ],
)
def test_places_in_capitals_and_other_scripts(make_privacy, text, places) -> None:
    privacy = make_privacy("mode: redact\nactions:\n  LOCATION: pseudonymize\n")
    ex = exchange("chat/completions", chat(("user", text)))
    privacy.resolve(ex)
    privacy.sanitize(ex)
    locations = [text[f.start : f.end] for f in ex.findings if f.entity_type == "LOCATION"]
    assert locations == places


def test_digits_inside_a_hex_identifier_are_no_card(make_privacy) -> None:
    """Claude Code's metadata.user_id carries a random 64-digit hex device id and a UUID:
    digit runs inside them are no card halves (a card there used to refuse the request),
    while a real card and SSN beside them are still found."""
    from cogate.policies.detect.engine import Detector
    from cogate.policies.schema import load_policy

    detector = Detector(load_policy(None))
    # A device id (found by sampling random ones) whose digit runs the split-card rule joins
    # into an issuer-prefixed, Luhn-valid number: raw detection still sees that "card".
    device = "b80e238bc5cfd9e053a910de2c648b4c3b266648155d1980bc67576c76a42c62"
    text = f'{{"device_id":"{device}","session_id":"e6a8ddae-35a1-48fc-bfde-fb6129c0b2d2"}}'
    assert "CREDIT_CARD" in {s.entity_type for s in detector.raw(text)}
    assert [s.entity_type for s in detector.detect(text)] == []
    mixed = f"id {device} card 4111 1111 1111 1111 ssn 078-05-1120"
    found = {s.entity_type for s in detector.detect(mixed)}
    assert {"CREDIT_CARD", "US_SSN"} <= found
