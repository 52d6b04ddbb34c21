"""What a preset claims, checked live: each identifier of its standard (HIPAA's 18 Safe
Harbor identifiers, GDPR's art. 4 and art. 9 data, PCI DSS's card data) with a built-in
example, run through the real engine under the policy.

An identifier is `covered` when the policy removes its example's value (a type the policy
acts on finds all of it), refuses it (`unscannable: block` for images and audio), or keeps
the task on the device (a special category under `sensitive_task: local` in a collaboration
mode); otherwise `not covered`, with what happened instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from cogate.core.errors import PolicyBlocked
from cogate.policies.detect.engine import Detector
from cogate.policies.redact import Outcome, Redaction
from cogate.policies.schema import Policy
from cogate.policies.sensitive import sensitive_topics
from cogate.policies.vault.memory import Vault

Kind = Literal["entity", "unscannable", "sensitive"]


@dataclass(frozen=True)
class Identifier:
    """One identifier of a standard and the examples (text, value in it) that check it."""

    key: str
    title: str
    examples: tuple[tuple[str, str], ...] = ()
    kind: Kind = "entity"
    category: str = ""  # sensitive: the category of policies/sensitive.py


@dataclass
class Row:
    key: str
    title: str
    covered: bool
    action: str
    recognizer: str
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _e(key: str, title: str, *examples: tuple[str, str]) -> Identifier:
    return Identifier(key, title, examples)


def _s(key: str, title: str, category: str, text: str) -> Identifier:
    return Identifier(key, title, ((text, ""),), "sensitive", category)


HIPAA = (
    _e("names", "Names", ("Patient Margaret Thornbury was seen today.", "Margaret Thornbury")),
    _e(
        "geographic",
        "Geographic subdivisions smaller than a state (street, city, ZIP)",
        ("Home address: 42 Elm Street, Springfield", "42 Elm Street"),
        ("Lives in Springfield, IL 62704 with her son.", "62704"),
    ),
    _e(
        "dates_ages",
        "Dates more precise than the year; ages over 89",
        ("Admitted on 03/14/2021 for chest pain.", "03/14/2021"),
        ("The patient is a 93-year-old widow.", "93-year-old"),
    ),
    _e("phone", "Telephone numbers", ("Call her at (617) 555-0142 after 5.", "(617) 555-0142")),
    _e("fax", "Fax numbers", ("Send records to fax (617) 555-0199.", "(617) 555-0199")),
    _e(
        "email",
        "E-mail addresses",
        ("Her e-mail is m.thornbury@example.com.", "m.thornbury@example.com"),
    ),
    _e("ssn", "Social security numbers", ("SSN 078-05-1120 on file.", "078-05-1120")),
    _e("mrn", "Medical record numbers", ("MRN: 00482913, bed 4.", "00482913")),
    _e(
        "health_plan",
        "Health plan beneficiary numbers",
        ("Insurance member ID XJH448120931 verified.", "XJH448120931"),
    ),
    _e(
        "account",
        "Account numbers",
        ("Bank account number 000123456789 for refunds.", "000123456789"),
    ),
    _e(
        "licence",
        "Certificate/license numbers",
        ("Her driver license D1234567 expired.", "D1234567"),
    ),
    _e(
        "vehicle",
        "Vehicle identifiers and serial numbers, including license plates",
        ("Car VIN 1HGCM82633A004352 was towed.", "1HGCM82633A004352"),
    ),
    _e(
        "device",
        "Device identifiers and serial numbers",
        ("Pacemaker serial no. PM-7731-0042 checked.", "PM-7731-0042"),
    ),
    _e(
        "url",
        "Web URLs",
        (
            "Results at https://portal.example-clinic.com/p/88213 now.",
            "https://portal.example-clinic.com/p/88213",
        ),
    ),
    _e("ip", "IP addresses", ("Logged in from 192.168.14.22 yesterday.", "192.168.14.22")),
    Identifier("biometric", "Biometric identifiers (finger and voice prints)", (), "unscannable"),
    Identifier("photo", "Full-face photographs and comparable images", (), "unscannable"),
    _e(
        "other",
        "Any other unique identifying number, characteristic or code",
        ("See claim number CLM-2024-118834.", "CLM-2024-118834"),
    ),
)

GDPR = (
    _e("name", "Art. 4: name", ("Write to Margaret Thornbury about it.", "Margaret Thornbury")),
    _e(
        "id_number",
        "Art. 4: identification number",
        ("Her NI number is AB 12 34 56 C.", "AB 12 34 56 C"),
    ),
    _e(
        "location",
        "Art. 4: location data",
        ("She lives at 42 Elm Street.", "42 Elm Street"),
        ("Meet at 51.5033, -0.1196 tomorrow.", "51.5033, -0.1196"),
    ),
    _e(
        "online_id",
        "Art. 4: online identifier (e-mail, IP, handle)",
        ("Mail m.thornbury@example.com today.", "m.thornbury@example.com"),
        ("Connected from 192.168.14.22 today.", "192.168.14.22"),
    ),
    _e("phone", "Art. 4: contact number", ("Call +44 20 7946 0958 today.", "+44 20 7946 0958")),
    _e(
        "financial",
        "Art. 4: bank account",
        ("Pay to DE89 3704 0044 0532 0130 00 now.", "DE89 3704 0044 0532 0130 00"),
    ),
    _s("origin", "Art. 9: racial or ethnic origin", "origin", "Given my ethnic background, reply."),
    _s("political", "Art. 9: political opinions", "affiliation", "My political views are leftist."),
    _s(
        "religion",
        "Art. 9: religious or philosophical beliefs",
        "religion",
        "As a practising Muslim, plan my week.",
    ),
    _s(
        "union",
        "Art. 9: trade union membership",
        "affiliation",
        "Draft a letter about my trade union dues.",
    ),
    _s("genetic", "Art. 9: genetic data", "genetic", "My BRCA1 mutation test came back."),
    _s("biometric", "Art. 9: biometric data", "biometric", "Store my fingerprint for the lock."),
    _s("health", "Art. 9: data concerning health", "health", "Help me manage my bipolar disorder."),
    _s(
        "sex_life",
        "Art. 9: sex life or sexual orientation",
        "sexuality",
        "How do I tell my parents I am gay?",
    ),
)

PCI = (
    _e(
        "pan",
        "Primary account number (PAN)",
        ("Card 4111 1111 1111 1111 declined.", "4111 1111 1111 1111"),
    ),
    _e("cardholder", "Cardholder name", ("Cardholder: Margaret Thornbury", "Margaret Thornbury")),
    _e("expiry", "Expiration date", ("Card exp 09/27 on file.", "09/27")),
    _e("cvv", "Card verification code (CVV2/CVC2/CID)", ("CVV 737 given by phone.", "737")),
    _e(
        "track",
        "Full track data (magnetic stripe or chip equivalent)",
        (
            "Swipe ;4111111111111111=27091010000000000? logged",
            ";4111111111111111=27091010000000000?",
        ),
    ),
)

STANDARD_IDENTIFIERS: dict[str, tuple[Identifier, ...]] = {"hipaa": HIPAA, "gdpr": GDPR, "pci": PCI}


def _entity(policy: Policy, item: Identifier, detector: Detector) -> Row:
    actions: set[str] = set()
    recognizers: set[str] = set()
    missed = []
    for text, value in item.examples:
        start = text.index(value)
        end = start + len(value)
        spans = [s for s in detector.detect(text) if s.start < end and s.end > start]
        covered: set[int] = set()
        for span in spans:
            covered.update(range(max(span.start, start), min(span.end, end)))
            actions.add(f"{span.entity_type}: {policy.action_for(span.entity_type)}")
            recognizers.add(span.recognizer)
        if len(covered) < end - start:
            missed.append(
                f"{end - start - len(covered)} of {end - start} characters of {text!r} left"
            )
    return Row(
        item.key,
        item.title,
        not missed,
        ", ".join(sorted(actions)) or "none",
        ", ".join(sorted(recognizers)) or "none",
        "; ".join(missed),
    )


def _unscannable(policy: Policy, item: Identifier, detector: Detector) -> Row:
    # The engine's own refusal, as a request with an image would meet it.
    redaction = Redaction(policy, policy.name, detector, Vault(), b"coverage", Outcome())
    try:
        redaction.unscannable("messages.0.content.1", "image_url")
        covered, detail = False, f"images are {policy.unscannable}ed, not refused"
    except PolicyBlocked:
        covered, detail = True, "images and audio cannot be scanned and are refused"
    return Row(
        item.key, item.title, covered, f"unscannable: {policy.unscannable}", "(refusal)", detail
    )


def _sensitive(policy: Policy, item: Identifier) -> Row:
    text = item.examples[0][0]
    found = {topic.category for topic in sensitive_topics(text)}
    local = policy.private_context.sensitive_task == "local" and policy.mode in ("sketch", "logits")
    covered = item.category in found and (local or policy.mode == "local")
    if item.category not in found:
        detail = f"the example is not found as {item.category}"
    elif not covered:
        detail = f"found, but mode {policy.mode} sends the task (`sensitive_task` applies in "
        detail += "sketch and logits)"
    else:
        detail = "the task is answered on the device"
    action = "local" if covered else f"mode {policy.mode}"
    return Row(item.key, item.title, covered, action, f"sensitive terms ({item.category})", detail)


def coverage(policy: Policy, standard: str, detector: Detector) -> list[Row]:
    """Each identifier of `standard`, checked with its examples under `policy`."""
    rows = []
    for item in STANDARD_IDENTIFIERS[standard]:
        if item.kind == "entity":
            rows.append(_entity(policy, item, detector))
        elif item.kind == "unscannable":
            rows.append(_unscannable(policy, item, detector))
        else:
            rows.append(_sensitive(policy, item))
    return rows
