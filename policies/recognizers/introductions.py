"""Names introduced by their context: profile fields (`Name: Isabel Martinez`),
self-introductions, greetings, titles and possessives."""

from __future__ import annotations

import re

import regex
from cogate.policies.recognizers.base import CAPITALISED, Rule
from cogate.policies.recognizers.names import COMMON, GREETINGS, NEVER_FIRST, NOT_SURNAME

_I = re.IGNORECASE

PROFILE_PERSON_RULES = [
    Rule(
        "profile_name",
        re.compile(rf"(?m)^[ \t\-*]*(?:full[ _]?)?name[ \t]*[:=][ \t]*({CAPITALISED})[ \t]*$", _I),
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
# After a greeting (`GREETINGS`), one to three names in any cased script, or Hebrew or Thai.
_UNCASED_WORD = r"[\p{Hebrew}\p{Thai}\p{M}]{2,}"
_PARTICLES = r"(?:van|von|de|der|den|da|di|del|della|dos|le|la|ter)"
_NAME_OR_UNCASED = rf"(?:{_NAME}|{_UNCASED_WORD})"
_GREETED = rf"{_NAME_OR_UNCASED}(?:\s+(?:{_PARTICLES}\s+){{0,2}}{_NAME_OR_UNCASED}){{0,2}}"
# A capitalised word in Cyrillic or Greek, or a word in Hebrew or Thai (no Latin letter).
_FOREIGN = (
    r"(?:(?=\p{Lu})[\p{Cyrillic}\p{Greek}][\p{Cyrillic}\p{Greek}\p{M}'\u02bc\-]+"
    r"|[\p{Hebrew}\p{Thai}\p{M}]{2,})"
)
_INTRODUCING = (
    r"to|from|with|for|by|cc|and|hi|hello|hey|dear|contact|customer|client|call|email|mail|"
    r"ask|tell|meet|invite|thank|thanks|mr\.?|mrs\.?|ms\.?|dr\.?"
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
        regex.compile(rf"(?:^|[.!?]\s+)(?i:{GREETINGS})\s+({_GREETED})(?=\s*[,!:])", regex.M),
        0.6,
        group=1,
        validate=lambda value: value.split()[0].lower() not in _NOT_GREETED,
    ),
    # A name in a script other than the sentence's, after a word that introduces a person:
    # "Please forward the invoice to Омелян Наливайко", "Hi ธีร์ธวัน ทองเนื้อดี".
    Rule(
        "other_script_name",
        regex.compile(
            rf"(?<=(?<![\p{{L}}])(?i:{_INTRODUCING})[ \t]+)({_FOREIGN}(?:[ \t]+{_FOREIGN}){{1,2}})"
            r"(?![\p{L}\p{M}])"
        ),
        0.6,
        group=1,
        # Greek, Cyrillic, Hebrew, Thai letters (`re` scans a text for them far faster).
        needs=re.compile("[\u0370-\u052f\u0590-\u05ff\u0e00-\u0e7f]"),
    ),
    Rule(
        "possessive",
        regex.compile(rf"\b({_NAME})['\u2019]s\s+(?i:{_OWNED})\b"),
        0.6,
        group=1,
        validate=lambda value: value.lower() not in NEVER_FIRST,
    ),
]
