"""Card and SSN numbers written with any separator, or glued to the words around them.

Presidio's rules want `-` or a space between groups and a word boundary around the number,
so `4111_1111_1111_1111`, `4111/1111/1111/1111`, `4111.1111.1111.1111` (which otherwise
looks like a phone number plus a leftover group) and `ref:card4111111111111111exp1227`
slipped through. Unicode dashes are mapped to `-` by `normalize` before these run. Cards
are still checked with Luhn and an issuer prefix; SSNs with the SSA's structural rules.
"""

from __future__ import annotations

import re

import regex
from cogate.policies.recognizers.base import RegexRecognizer, Rule, luhn_ok
from presidio_analyzer import EntityRecognizer, RecognizerResult

# Between two groups: one separator character, possibly padded with spaces.
_SEP = r"(?:[ \t]*[\-_/.\\|:][ \t]*|[ \t]+)"
# Issuer prefixes (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro).
_ISSUER = r"(?:4|5[1-5]|2[2-7]|3[47]|3[5]|30[0-5]|36|38|6(?:011|5|4[4-9]|2)|5[06-8]|6[37])"
# Not inside a longer run of digits; letters may touch it (`card4111...exp`).
_NO_DIGIT_BEFORE = r"(?<![\d])"
_NO_DIGIT_AFTER = r"(?![\d])"
# Letters a glued card may follow ("card4111…", "cc4111…"); after other letters a digit run
# is an IBAN, a licence or an id ("GB09YRHY4196…", "U6292…").
_CARD_WORDS = r"(?i:card|cc|visa|amex|mastercard|pan|num|no|nr)"
# Not groups of a longer grouped number (an IBAN "DE89 3704 0044 0532 0130 00", an id).
_NOT_A_LATER_GROUP = r"(?<!\d[ \-_/.])"
_NOT_AN_EARLIER_GROUP = r"(?![ \-_/.]\d)"


def _card(value: str) -> bool:
    return luhn_ok(value)


CARD_RULES = [
    # 4-4-4-4(-3), 4-6-5 (Amex), 4-4-4-1..7 with any one separator style between groups.
    Rule(
        "separated_card",
        re.compile(
            rf"{_NO_DIGIT_BEFORE}{_NOT_A_LATER_GROUP}(?={_ISSUER})"
            rf"(?:\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{1,7}}|"
            rf"\d{{4}}{_SEP}\d{{6}}{_SEP}\d{{4,5}}){_NO_DIGIT_AFTER}{_NOT_AN_EARLIER_GROUP}"
        ),
        0.8,
        validate=_card,
    ),
    # Glued to letters or inside identifiers: `card4111111111111111exp`, `cc_4111111111111111`.
    Rule(
        "glued_card",
        regex.compile(
            rf"(?<=^|[^A-Za-z0-9]|{_CARD_WORDS}){_NO_DIGIT_BEFORE}(?={_ISSUER})\d{{13,19}}"
            rf"{_NO_DIGIT_AFTER}"
        ),
        0.7,
        validate=_card,
    ),
]


def ssn_ok(value: str) -> bool:
    """Structurally possible SSN: area not 000/666/9xx, group not 00, serial not 0000."""
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) != 9 or len(set(digits)) == 1:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


SSN_RULES = [
    # 3-2-4 with the same separator twice (a Unicode dash becomes `-` before this runs).
    Rule(
        "separated_ssn",
        re.compile(r"(?<![\d\-./])\d{3}([ \-_/.])\d{2}\1\d{4}(?![\d]|[\-./]\d)"),
        0.6,
        validate=ssn_ok,
    ),
    # After the word SSN (or social security number), glued or not: `ssn536228841`.
    Rule(
        "ssn_after_keyword",
        re.compile(
            r"(?i:ssn|social[ _\-]?security(?:[ _\-]?(?:number|no\.?|#))?)[\W_]{0,4}"
            r"(\d{3}[\W_]{0,2}\d{2}[\W_]{0,2}\d{4})(?!\d)"
        ),
        0.85,
        group=1,
        validate=ssn_ok,
    ),
]


# A group of 4 to 12 digits (spaces or dashes inside), not part of a longer number.
_GROUP = re.compile(r"(?<![\d\-])\d{4}(?:[ \-]?\d{2,4}){0,2}(?![\d])")
_CARD_START = re.compile(_ISSUER)
_NEARBY = 80  # characters between the two halves


class SplitCardRecognizer(EntityRecognizer):
    """A card number written as two halves ("first half 4111 1111 ... second 1111 1111"):
    two nearby digit groups whose digits together pass the issuer prefix and Luhn."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["CREDIT_CARD"], name="SplitCardRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        groups = [(m.start(), m.end(), re.sub(r"\D", "", m.group())) for m in _GROUP.finditer(text)]
        out = []
        for (s1, e1, d1), (s2, e2, d2) in zip(groups, groups[1:], strict=False):
            digits = d1 + d2
            if s2 - e1 > _NEARBY or not 13 <= len(digits) <= 19:
                continue
            if _CARD_START.match(digits) and luhn_ok(digits):
                for start, end in ((s1, e1), (s2, e2)):
                    out.append(
                        RecognizerResult(
                            "CREDIT_CARD",
                            start,
                            end,
                            0.6,
                            recognition_metadata={
                                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,  # type: ignore[has-type]
                                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                            },
                        )
                    )
        return out


def number_recognizers() -> list[EntityRecognizer]:
    return [
        RegexRecognizer("CREDIT_CARD", CARD_RULES, "SeparatedCardRecognizer"),
        RegexRecognizer("US_SSN", SSN_RULES, "SeparatedSsnRecognizer"),
        SplitCardRecognizer(),
    ]


SPACED_CARD_RULES = [
    # Card numbers typed digit by digit or in pairs ("4 1 1 1 ..."): Presidio's own finds
    # the usual 4-4-4-4 forms. Many separators are required, since one in ten random digit
    # runs passes Luhn and a card is blocked by default.
    Rule(
        "spaced_card",
        re.compile(r"(?<![\w\-+])\d(?:[ \-.]{1,2}\d|\d){12,18}(?![\w])"),
        0.6,
        validate=lambda v: luhn_ok(v) and sum(not c.isdigit() for c in v) >= 6,
    ),
]
