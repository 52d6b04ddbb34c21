"""cogate's own recognizers: secrets, obfuscated contacts, spaced digits, profile fields.

Each is a small Presidio recognizer with its patterns and a validation step where one
exists (Luhn, entropy). Results carry offsets, type, score and recognizer name only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import regex
import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    NhsRecognizer,
    PhoneRecognizer,
)

from .names import COMMON, NEVER_FIRST, NOT_SURNAME, NameListRecognizer, is_uncased
from .schema import CustomRecognizer

# The public suffix list snapshot bundled with tldextract: never a download, never a cache
# file (cache_dir=None), so email validation stays on the device.
OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer, validating domains against the bundled suffix list."""

    def __init__(self) -> None:
        super().__init__(name="EmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        return OFFLINE_TLD(pattern_text).fqdn != ""


class QuickPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer, skipped for texts with too few digits for a number."""

    def __init__(self, regions: list[str]) -> None:
        super().__init__(supported_regions=regions, name="PhoneRecognizer")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None):
        if sum(char.isdigit() for char in text) < 7:
            return []
        return super().analyze(text, entities, nlp_artifacts)


class ContextualNhsRecognizer(NhsRecognizer):
    """Presidio's NHS number recognizer, trusted only in a text that mentions health care.

    One in eleven 10-digit numbers passes the NHS checksum, so without such a mention a
    phone number is far more likely (and is found by the phone rules instead).
    """

    def __init__(self) -> None:
        super().__init__(name="NhsRecognizer")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None):  # type: ignore[override]
        results = super().analyze(text, entities, nlp_artifacts)
        if results and not re.search(r"\bnhs\b|health", text, re.IGNORECASE):
            for result in results:
                result.score = min(result.score, 0.3)
        return results


@dataclass(frozen=True)
class Rule:
    """One regex of a RegexRecognizer: the span is `group` of each match."""

    name: str
    regex: re.Pattern[str] | regex.Pattern[str]
    score: float
    group: int = 0
    validate: Callable[[str], bool] | None = None
    # Only for texts typed all in lower case, where capitals are no cue.
    uncased: bool = False


class RegexRecognizer(EntityRecognizer):
    """A recognizer built from Rules; each result is named after its rule."""

    def __init__(self, entity: str, rules: list[Rule], name: str) -> None:
        self.rules = rules
        super().__init__(supported_entities=[entity], name=name)

    def load(self) -> None:  # nothing to load: patterns are compiled at import
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        results: list[RecognizerResult] = []
        uncased = is_uncased(text)
        for rule in self.rules:
            if rule.uncased and not uncased:
                continue
            for match in rule.regex.finditer(text):
                start, end = match.span(rule.group)
                if start < 0 or end <= start:
                    continue
                if rule.validate is not None and not rule.validate(text[start:end]):
                    continue
                results.append(
                    RecognizerResult(
                        entity,
                        start,
                        end,
                        rule.score,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: rule.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
        return results


def shannon_entropy(value: str) -> float:
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_random(value: str) -> bool:
    """A token rather than a word: mixed character classes and high entropy."""
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
    return classes >= 2 and shannon_entropy(value) >= 3.0


def luhn_ok(digits: str) -> bool:
    numbers = [int(c) for c in digits if c.isdigit()]
    if not 13 <= len(numbers) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(numbers)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0 and len(set(numbers)) > 1


_I = re.IGNORECASE
_SECRET_WORDS = (
    r"(?:api[_\- ]?key|apikey|access[_\- ]?key(?:[_\- ]?id)?|secret(?:[_\- ]?key)?|"
    r"client[_\- ]?secret|auth[_\- ]?token|access[_\- ]?token|refresh[_\- ]?token|token|"
    r"bearer|private[_\- ]?key|credentials?)"
)
_PASSWORD_WORDS = r"(?:password|passwd|passphrase|pwd|pass)"

SECRET_RULES = [
    Rule(
        "openai_api_key",
        re.compile(
            r"\bsk-(?:proj-|svcacct-|admin-|ant-[a-z0-9]+-)?"
            r"[A-Za-z0-9_\-]{20,}"
        ),
        0.95,
    ),
    Rule(
        "aws_access_key_id",
        re.compile(
            r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|"
            r"ANVA|APKA)[A-Z0-9]{16}\b"
        ),
        0.95,
    ),
    Rule(
        "github_token",
        re.compile(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|"
            r"github_pat_[A-Za-z0-9_]{22,255})\b"
        ),
        0.95,
    ),
    Rule("gitlab_token", re.compile(r"\bgl(?:pat|dt|ptt|rt)-[A-Za-z0-9_\-]{20,}"), 0.95),
    Rule("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), 0.95),
    Rule("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+"), 0.95),
    Rule(
        "jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), 0.9
    ),
    Rule(
        "pem_private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        1.0,
    ),
    # user:password@host in any URL: the password is the secret, the rest stays readable.
    Rule(
        "url_password",
        re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@", _I),
        0.95,
        group=1,
    ),
    Rule(
        "password_assignment",
        re.compile(
            rf"\b{_PASSWORD_WORDS}\b[\"']?\s*(?:[:=]|=>|\bis\b)\s*[\"']?([^\s\"',;]{{6,}})", _I
        ),
        0.85,
        group=1,
    ),
    Rule(
        "keyword_token",
        re.compile(
            rf"\b{_SECRET_WORDS}\b[\"']?\s*(?:[:=]|=>|\bis\b)?\s*[\"']?([A-Za-z0-9_\-+/=.~]{{16,}})",
            _I,
        ),
        0.85,
        group=1,
        validate=looks_random,
    ),
]

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

# "Name: Isabel Martinez" / "Location: Miami, Florida" lines of profiles and forms.
_CAPITALISED = r"[A-Z][\w'\-]+(?:[ ,]+(?:[A-Z][\w'\-]+|de|da|van|von|del|la|le|di))*"
PROFILE_PERSON_RULES = [
    Rule(
        "profile_name",
        re.compile(rf"(?m)^[ \t\-*]*(?:full[ _]?)?name[ \t]*[:=][ \t]*({_CAPITALISED})[ \t]*$", _I),
        0.75,
        group=1,
    ),
]
# Self-introductions, greetings, titles and possessives, which the small spaCy model often
# misses or types as places. Names in any script; in a text typed all in lower case
# (`uncased`) a lower-case name after "my name is" or "mr." counts too.
_NAME = r"\p{Lu}\p{Ll}*(?:\p{Lu}\p{Ll}+)?(?:[\-'\u2019]\p{L}+)?"
_NAMES = rf"{_NAME}(?:\s+{_NAME}){{0,2}}"
_STOP = "|".join(sorted(NEVER_FIRST | COMMON, key=len, reverse=True))
_LOWER_NAMES = rf"\p{{Ll}}{{2,}}(?:-\p{{Ll}}+)?(?: (?!(?:{_STOP})\b)\p{{Ll}}{{2,}}(?:-\p{{Ll}}+)?)?"
_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)"
# Relations and belongings of a person: "Kian's address", "Mary's daughter".
_OWNED = (
    r"(?:address|phone|email|daughter|son|wife|husband|mother|father|"
    r"brother|sister|partner|friend|boss|birthday)"
)
# Greetings to everyone rather than to someone.
_NOT_GREETED = NEVER_FIRST | {"world", "team", "guys", "folks", "friends", "sir", "madam"}


def _not_common(value: str) -> bool:
    """A lower-case name is not one of the everyday words that may follow the cue."""
    return not any(word in NEVER_FIRST or word in COMMON for word in value.split()[:1])


INTRODUCTION_RULES = [
    Rule(
        "introduction",
        regex.compile(
            r"\b(?i:my name is|my name's|name is|calls? me|named|signed|regards,?|sincerely,?)"
            rf"\s+({_NAMES})\b"
        ),
        0.7,
        group=1,
    ),
    Rule(
        "introduction",
        regex.compile(rf"\b(?i:i am|i'm|this is)\s+({_NAME}(?:\s+{_NAME}){{1,2}})\b"),
        0.6,
        group=1,
    ),
    Rule(
        "introduction",
        regex.compile(rf"\b(?:my name is|my name's|name is|calls? me|named)\s+({_LOWER_NAMES})\b"),
        0.6,
        group=1,
        validate=_not_common,
        uncased=True,
    ),
    # The title is part of the name: "Mr. Ford" says who as much as "Ford" does.
    Rule(
        "title",
        regex.compile(rf"\b{_TITLES}\.?\s+{_NAME}(?:\s+{_NAME})?\b"),
        0.7,
        # "Main Dr. Apt 4" is a street (Drive), not a doctor.
        validate=lambda value: value.split()[1].lower() not in NOT_SURNAME,
    ),
    Rule(
        "title",
        regex.compile(rf"\b(?:mr|mrs|ms|dr|prof)\.\s+{_LOWER_NAMES}\b"),
        0.7,
        validate=lambda value: _not_common(value.split(None, 1)[1]),
        uncased=True,
    ),
    Rule(
        "greeting",
        regex.compile(rf"(?:^|[.!?]\s+)(?i:hi|hello|hey|dear)\s+({_NAME})(?=\s*[,!:])", regex.M),
        0.6,
        group=1,
        validate=lambda value: value.lower() not in _NOT_GREETED,
    ),
    Rule(
        "possessive",
        regex.compile(rf"\b({_NAME})['\u2019]s\s+(?i:{_OWNED})\b"),
        0.6,
        group=1,
        validate=lambda value: value.lower() not in NEVER_FIRST,
    ),
]
PROFILE_LOCATION_RULES = [
    Rule(
        "profile_location",
        re.compile(
            rf"(?m)^[ \t\-*]*(?:location|city|hometown|home[ _]town|address|lives in)[ \t]*[:=]"
            rf"[ \t]*({_CAPITALISED})[ \t]*$",
            _I,
        ),
        0.75,
        group=1,
    ),
]


def _country_names() -> list[str]:
    # Country names from phonenumbers' bundled data (offline, installed with Presidio).
    from phonenumbers import geocoder
    from phonenumbers.phonenumberutil import SUPPORTED_REGIONS

    ambiguous = {"Jordan", "Chad", "Turkey", "Georgia", "Jersey", "Guinea", "Niger"}
    names = {geocoder._region_display_name(region, "en") for region in SUPPORTED_REGIONS}
    return sorted((n for n in names if n and n not in ambiguous), key=len, reverse=True)


_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|"
    r"place|pl|terrace|parkway|pkwy|highway|hwy|square|sq|circle|cir|crescent|close)"
)


def trie_regex(words: list[str]) -> str:
    """One alternation factored by common prefixes: `re` tries a flat list of 200 names
    one by one at every position, a trie only where the first letters match."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word.lower():
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


ADDRESS_RULES = [
    Rule("country", re.compile(r"\b" + trie_regex(_country_names()) + r"\b", _I), 0.6),
    Rule(
        "street_address",
        re.compile(
            rf"\b\d{{1,5}}(?:[ \t]+\d{{1,5}})?[ \t]+(?:[^\W\d_][\w'.\-]*[ \t]+){{0,4}}"
            rf"{_STREET}\b\.?",
            _I,
        ),
        0.6,
    ),
    Rule(
        "address_unit",
        re.compile(r"\b(?:suite|apt\.?|apartment|unit|p\.?\s?o\.?\s?box)[ \t]*#?\d{1,6}\b", _I),
        0.6,
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


def project_recognizers() -> list[EntityRecognizer]:
    """cogate's own recognizers, added to Presidio's predefined ones."""
    return [
        RegexRecognizer("SECRET", SECRET_RULES, "SecretsRecognizer"),
        RegexRecognizer("EMAIL_ADDRESS", OBFUSCATED_EMAIL_RULES, "ObfuscatedEmailRecognizer"),
        RegexRecognizer("CREDIT_CARD", SPACED_CARD_RULES, "SpacedCardRecognizer"),
        RegexRecognizer("PERSON", PROFILE_PERSON_RULES, "ProfileFieldRecognizer"),
        RegexRecognizer("PERSON", INTRODUCTION_RULES, "IntroductionRecognizer"),
        NameListRecognizer(),
        RegexRecognizer("LOCATION", PROFILE_LOCATION_RULES, "ProfileFieldRecognizer"),
        RegexRecognizer("LOCATION", ADDRESS_RULES, "AddressRecognizer"),
        RegexRecognizer("PHONE_NUMBER", PHONE_RULES, "PhoneDigitsRecognizer"),
    ]


def custom_recognizers(specs: Iterable[CustomRecognizer]) -> list[EntityRecognizer]:
    """A policy's `custom` recognizers as Presidio PatternRecognizers."""
    out: list[EntityRecognizer] = []
    for spec in specs:
        flags = re.DOTALL | re.MULTILINE | (0 if spec.case_sensitive else re.IGNORECASE)
        if spec.deny_list is not None:
            recognizer = PatternRecognizer(
                supported_entity=spec.entity,
                name=spec.name,
                deny_list=[w for w in spec.deny_list if w.strip()],
                deny_list_score=spec.score,
                context=spec.context or None,  # type: ignore[arg-type]
                global_regex_flags=flags,
            )
        else:
            recognizer = PatternRecognizer(
                supported_entity=spec.entity,
                name=spec.name,
                patterns=[Pattern(spec.name, spec.regex or "", spec.score)],
                context=spec.context or None,  # type: ignore[arg-type]
                global_regex_flags=flags,
            )
        out.append(recognizer)
    return out
