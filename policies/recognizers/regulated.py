"""Identifiers the HIPAA Safe Harbor and PCI DSS presets need that no other family finds:
medical record and health-plan numbers (after their cue words), fax numbers, vehicle
identification numbers, device serials, ages over 89, dates more precise than a year, card
verification codes, expiry dates and magnetic-stripe track data.

Each number is found after the words that say what it is ("MRN", "member ID", "fax",
"serial no."), since the bare digits could be anything; a VIN alone is trusted only when its
check digit is right.
"""

from __future__ import annotations

import re

from cogate.policies.recognizers.base import RegexRecognizer, Rule

# An identifier after a cue: letters, digits and - / . with at least one digit, 4 to 20 long.
_ID = r"((?i:(?=[A-Z0-9./-]*\d)[A-Z0-9][A-Z0-9./-]{3,19}))(?![A-Za-z0-9])"
# Between a cue and its value: "MRN: ", "member ID # ", "no. ", "is ".
_GAP = r"(?i:[ \t]*(?:(?:#|no\.?|number|num|nr|id)[ \t]*)?(?:[:=#-]|is)?[ \t]*)"


def _cued(name: str, cues: str, score: float, words: tuple[str, ...]) -> Rule:
    return Rule(
        name,
        re.compile(rf"(?i:\b(?:{cues}))(?![A-Za-z]){_GAP}{_ID}"),
        score,
        group=1,
        cues=words,
    )


MEDICAL_RECORD_RULES = [
    _cued(
        "medical_record_number",
        r"mrn|medical[ \t]+record|med[ \t]+rec|chart|patient[ \t]+(?:id|no|number|#)",
        0.85,
        ("mrn", "record", "med rec", "chart", "patient"),
    )
]

HEALTH_PLAN_RULES = [
    _cued(
        "health_plan_number",
        r"member(?:[ \t]+id)?|subscriber(?:[ \t]+id)?|beneficiary(?:[ \t]+id)?|"
        r"health[ \t]+plan(?:[ \t]+id)?|insurance(?:[ \t]+id)?|policy[ \t]+(?:no|number|#)|"
        r"medicare(?:[ \t]+id)?|medicaid(?:[ \t]+id)?|group[ \t]+(?:no|number|#)|hicn|mbi",
        0.8,
        (
            "member",
            "subscriber",
            "beneficiary",
            "plan",
            "insurance",
            "policy",
            "medicare",
            "medicaid",
            "group",
            "hicn",
            "mbi",
        ),
    )
]

FAX_RULES = [
    Rule(
        "fax_number",
        re.compile(
            r"(?i:\bfax)(?:[ \t]*(?:no\.?|number|#))?[ \t]*[:=]?[ \t]*"
            r"(\+?\(?\d[\d \t().-]{6,18}\d)(?!\d)"
        ),
        0.85,
        group=1,
        cues=("fax",),
    )
]

_VIN_VALUES = {**{str(d): d for d in range(10)}}
_VIN_VALUES.update(dict(zip("ABCDEFGH", range(1, 9), strict=True)))
_VIN_VALUES.update(dict(zip("JKLMN", range(1, 6), strict=True)))
_VIN_VALUES.update({"P": 7, "R": 9})
_VIN_VALUES.update(dict(zip("STUVWXYZ", range(2, 10), strict=True)))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit_ok(vin: str) -> bool:
    """The North American check digit (position 9) of a 17-character VIN."""
    vin = vin.upper()
    if len(vin) != 17 or any(c not in _VIN_VALUES for c in vin):
        return False
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    check = total % 11
    return vin[8] == ("X" if check == 10 else str(check))


_VIN = r"([A-HJ-NPR-Z0-9]{17})(?![A-Za-z0-9])"
VEHICLE_RULES = [
    Rule("vin", re.compile(rf"(?<![A-Za-z0-9]){_VIN}"), 0.9, group=1, validate=vin_check_digit_ok),
    # After the word VIN the check digit is not required (VINs outside North America).
    Rule(
        "vin_cued",
        re.compile(rf"(?i:\b(?:vin|vehicle|chassis))(?![A-Za-z]){_GAP}{_VIN}"),
        0.8,
        group=1,
        cues=("vin", "vehicle", "chassis"),
    ),
    _cued(
        "licence_plate",
        r"licen[cs]e[ \t]+plate|number[ \t]+plate|plate",
        0.7,
        ("plate",),
    ),
]

DEVICE_RULES = [
    _cued(
        "device_serial",
        r"serial|s/n|sn|imei|udi|device(?:[ \t]+id)?|implant(?:[ \t]+id)?|pacemaker",
        0.8,
        ("serial", "s/n", "sn", "imei", "udi", "device", "implant", "pacemaker"),
    )
]

_OLD = r"(9\d|1[01]\d|12[0-5])"
AGE_RULES = [
    Rule(
        "age_over_89",
        re.compile(
            rf"(?i:\b{_OLD}(?:[ \t-]*(?:years?|yrs?|y/?o)\b(?:[ \t-]*old)?|-year-old))"
            rf"|(?i:\b(?:age[d]?|aged)[ \t]*:?[ \t]*{_OLD}\b)"
        ),
        0.85,
    )
]

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
PRECISE_DATE_RULES = [
    # 03/14/2021, 14.03.2021, 2021-03-14, 3/14/21
    Rule(
        "numeric_date",
        re.compile(
            r"(?<![\d/.-])(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2})"
            r"(?![\d/.-]?\d)"
        ),
        0.75,
    ),
    # March 14, 2021; 14 March 2021; Mar 14; March 2021 (a month is more than a year)
    Rule(
        "month_date",
        re.compile(
            rf"(?i:\b(?:{_DAY}[ \t]+(?:of[ \t]+)?{_MONTH}(?:,?[ \t]+{_YEAR})?"
            rf"|{_MONTH}[ \t]+{_DAY}(?:,?[ \t]+{_YEAR})?|{_MONTH}[ \t]+{_YEAR})\b)"
        ),
        0.7,
    ),
]

# The value after a cue is the 3 or 4 digits only.
CVV_RULES = [
    Rule(
        "card_cvv",
        re.compile(
            r"(?i:\b(?:cvv2?|cvc2?|cid|security[ \t]+code|card[ \t]+code))[ \t]*[:=#]?[ \t]*"
            r"(\d{3,4})(?!\d)"
        ),
        0.9,
        group=1,
        cues=("cvv", "cvc", "cid", "security code", "card code"),
    )
]

EXPIRY_RULES = [
    Rule(
        "card_expiry",
        re.compile(
            r"(?i:\b(?:exp(?:iry|iration)?(?:[ \t]+date)?|valid[ \t]+(?:thru|through|until)|"
            r"expires))\.?[ \t]*[:=]?[ \t]*((?:0[1-9]|1[0-2])[ \t]*[/-][ \t]*(?:\d{4}|\d{2}))"
            r"(?!\d)"
        ),
        0.9,
        group=1,
        cues=("exp", "valid", "expires"),
    )
]

TRACK_RULES = [
    # Track 1: %B<PAN>^<NAME>^<YYMM><service code><discretionary data>?
    Rule("track1", re.compile(r"%?B\d{12,19}\^[^^\n]{2,26}\^\d{4}\d{3}[^?\s]*\??"), 0.95),
    # Track 2: ;<PAN>=<YYMM><service code><discretionary data>?
    Rule("track2", re.compile(r";?\d{12,19}=\d{4}\d{3}\d*\??"), 0.95),
]


# Safe Harbor's "any other unique identifying number": a number named as an identifier.
OTHER_ID_RULES = [
    _cued(
        "named_identifier",
        r"case|claim|account|reference|ref|identifier|badge|employee(?:[ \t]+id)?|"
        r"student(?:[ \t]+id)?|certificate|licen[cs]e|ticket|enrollment|encounter|visit",
        0.6,
        (
            "case",
            "claim",
            "account",
            "ref",
            "identifier",
            "badge",
            "employee",
            "student",
            "certificate",
            "licen",
            "ticket",
            "enrollment",
            "encounter",
            "visit",
        ),
    )
]


def regulated_recognizers() -> list[RegexRecognizer]:
    """The recognizers of identifiers that HIPAA and PCI DSS name."""
    return [
        RegexRecognizer("MEDICAL_RECORD_NUMBER", MEDICAL_RECORD_RULES, "MedicalRecordRecognizer"),
        RegexRecognizer("HEALTH_PLAN_NUMBER", HEALTH_PLAN_RULES, "HealthPlanRecognizer"),
        RegexRecognizer("FAX_NUMBER", FAX_RULES, "FaxRecognizer"),
        RegexRecognizer("VEHICLE_ID", VEHICLE_RULES, "VehicleRecognizer"),
        RegexRecognizer("DEVICE_ID", DEVICE_RULES, "DeviceSerialRecognizer"),
        RegexRecognizer("AGE_OVER_89", AGE_RULES, "AgeOver89Recognizer"),
        RegexRecognizer("PRECISE_DATE", PRECISE_DATE_RULES, "PreciseDateRecognizer"),
        RegexRecognizer("CARD_CVV", CVV_RULES, "CardCvvRecognizer"),
        RegexRecognizer("CARD_EXPIRY", EXPIRY_RULES, "CardExpiryRecognizer"),
        RegexRecognizer("CARD_TRACK_DATA", TRACK_RULES, "TrackDataRecognizer"),
        RegexRecognizer("ID_NUMBER", OTHER_ID_RULES, "NamedIdentifierRecognizer"),
    ]
