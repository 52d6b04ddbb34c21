"""Contact data the stock recognizers miss: e-mail addresses written to dodge scrapers
(`jane [at] example [dot] com`) and phone numbers libphonenumber rejects or that only a cue
word marks as one."""

from __future__ import annotations

import re

from cogate.policies.recognizers.base import Rule

_I = re.IGNORECASE

_TLDS = (
    r"(?:com|org|net|edu|gov|io|co|ai|dev|app|info|biz|me|us|uk|de|fr|es|it|nl|be|ch|at|"
    r"se|no|dk|fi|pl|cz|ru|cn|jp|kr|in|au|nz|ca|br|mx|ar|za|ie|pt|gr|tr|il|eu)"
)
_DOT = r"(?:\s*\.\s*|\s*[\[\(\{]\s*dot\s*[\]\)\}]\s*|\s+dot\s+)"
_AT = r"(?:\s*@\s*|\s*[\[\(\{<]\s*at\s*[\]\)\}>]\s*|\s+at\s+)"
_WORD = r"[A-Za-z0-9_%+\-]+"

OBFUSCATED_EMAIL_RULES = [
    Rule(
        "obfuscated_email",
        re.compile(
            rf"(?<![\w.]){_WORD}(?:{_DOT}{_WORD})*{_AT}{_WORD}(?:{_DOT}{_WORD})*{_DOT}{_TLDS}\b", _I
        ),
        0.7,
        validate=lambda value: bool(re.search(r"\bdot\b|[\[\(\{<]\s*at|\s@|@\s", value, _I)),
    ),
]

_PHONE_WORDS = (
    r"(?:call|phone|tel|telephone|mobile|cell|fax|number|reach|contact|office|whatsapp|sms|"
    r"answering)"
)
_DIGITS = r"\+?\(?\d[\d \-.()]{5,18}\d(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?"


def _phone_digits(value: str) -> bool:
    return 7 <= sum(c.isdigit() for c in value.split("x")[0]) <= 15


PHONE_RULES = [
    # Digit groups typed as phone numbers that libphonenumber rejects as invalid numbers
    # (fictional ranges, unknown regions): still contact data.
    Rule(
        "phone_digits",
        re.compile(
            r"(?<![\w\-])(?:\+\d{1,3}[ \-.]?|00\d{1,3}[ \-.]?)?\(?\d{2,4}\)?[ \-.]"
            r"\d{3,4}[ \-.]\d{3,4}(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w]|-\d)",
            _I,
        ),
        0.45,
        validate=_phone_digits,
    ),
    # Shorter or unusual groupings only next to a word that says it is a phone number.
    Rule(
        "phone_context",
        re.compile(rf"\b{_PHONE_WORDS}\b[^\d\n]{{0,25}}?(?<![\w\-])({_DIGITS})(?![\w]|-\d)", _I),
        0.5,
        group=1,
        validate=_phone_digits,
    ),
    Rule(
        "phone_context",
        re.compile(rf"(?<![\w\-])({_DIGITS})[ \-]*(?:office|fax|mobile|cell|home|work)\b", _I),
        0.5,
        group=1,
        validate=_phone_digits,
    ),
]
