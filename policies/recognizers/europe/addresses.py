"""Street addresses of Germany, France, Spain, Italy, the Netherlands, Portugal and Poland:
each country's street-type words (a suffix of a German or Dutch compound, a word before
the name elsewhere), the house number, and the postcode of that country's shape with the
city after it. Also inside JSON written as a string, where a line break is the two
characters `\\n`.
"""

from __future__ import annotations

import re

from cogate.policies.recognizers.base import RegexRecognizer, Rule

# A capitalised word of a street or city name, and the small words inside such names.
_CAP = r"[A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ][a-zß-öø-ÿąćęłńóśźż'’\-][\w'’\-]*"
_SMALL = (
    r"(?:de|del|de la|de las|de los|des|du|d'|l'|di|della|delle|dei|degli|do|da|dos|das|"
    r"van|der|den|von|zum|zur|am|an|la|le|les|el|lo|y|e|i)"
)
_NAME = rf"{_CAP}(?:[ \t]+(?:{_SMALL}[ \t]+)?{_CAP}){{0,4}}"
# House number: "5", "12a", "7-9", "14 bis", "23/5", "nº 7".
_NUMBER = (
    r"(?:n[º°o]\.?[ \t]*|nr\.?[ \t]*)?\d{1,4}(?:[ \t]?[a-zA-Z](?![\w]))?"
    r"(?:[\-/]\d{1,4}[a-z]?)?(?:[ \t]+(?:bis|ter))?"
)
# Between street and postcode: a comma, spaces, a line break, or JSON's escaped one.
_GAP = r"(?:[ \t]*,[ \t]*|[ \t]*(?:\\n|\n)[ \t]*|[ \t]+)"
_POSTCODE = r"(?:\d{5}|\d{4}[ \t]?[A-Z]{2}|\d{4}-\d{3}|\d{2}-\d{3}|\d{3}[ \t]\d{2})"
_CITY = rf"{_CAP}(?:[ \t\-]+(?:{_SMALL}[ \t\-]+)?{_CAP}){{0,2}}(?:[ \t]+\([A-Z]{{2}}\))?"
_TAIL = rf"(?:{_GAP}{_POSTCODE}[ \t]+{_CITY})?"

# German and Dutch streets: one word ending in the street type ("Hauptstraße", "Keizersgracht").
_DE_NL_SUFFIX = (
    r"(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad|"
    r"straat|gracht|laan|plein|kade|singel|dijk|steeg|markt|hof|park|"
    r"gatan|vägen|gränd|torget|stigen|allén|backen)"
)
_SUFFIXED = rf"(?<![\w])[A-ZÄÖÜ][\wäöüß\-]*{_DE_NL_SUFFIX}(?:[ \t]+{_CAP})?[ \t]+{_NUMBER}"
# "Berliner Straße 12a", "Alte Allee 3": an adjective, then the type as a word of its own.
_DE_TWO_WORDS = (
    rf"(?<![\w])[A-ZÄÖÜ][\wäöüß\-]*[ \t]+(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Ring|"
    rf"Gasse|Damm|Chaussee|Ufer)[ \t]+{_NUMBER}"
)
# Elsewhere the type comes first ("rue des Lilas", "calle Mayor", "via Roma", "ul. Długa").
# Words that are also English ("via", "place", "route") need the postcode and city after.
_TYPES = (
    r"(?:rue|allée|impasse|quai|calle|c/|avenida|avda\.?|pza\.?|carretera|travesía|"
    r"viale|piazza|piazzale|vicolo|lungomare|rua|travessa|praça|estrada|alameda|"
    r"ul\.|ulica|al\.|aleja|plac|os\.|osiedle)"
)
_ENGLISH_TYPES = (
    r"(?:avenue|av\.|boulevard|bd\.?|place|chemin|route|cours|plaza|paseo|camino|ronda|"
    r"via|corso|largo|strada|pl\.|passage)"
)
_FR_TYPES = r"(?:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai|route|cours|passage)"
_FR_FIRST = (
    rf"(?<![\w])\d{{1,4}}(?:[ \t]?(?:bis|ter|[a-c]))?,?[ \t]+(?i:{_FR_TYPES})[ \t]+"
    rf"(?:{_SMALL}[ \t]+)?{_NAME}"
)
_TYPE_FIRST = rf"(?<![\w])(?i:{_TYPES})[ \t]+(?:{_SMALL}[ \t]+)?{_NAME},?[ \t]+{_NUMBER}"
_ENGLISH_FIRST = (
    rf"(?<![\w])(?i:{_ENGLISH_TYPES})[ \t]+(?:{_SMALL}[ \t]+)?{_NAME},?[ \t]+{_NUMBER}"
    rf"{_GAP}{_POSTCODE}[ \t]+{_CITY}"
)
# A postcode of one of these countries' shapes, then a city, after a comma or at a line's
# start (in prose "12345 Euro" is an amount, not a place).
_POSTCODE_CITY = rf"(?:(?<=,)|(?<=, )|(?<=\\n)|(?<=\")|(?m:^))[ \t]*({_POSTCODE}[ \t]+{_CITY})"

_NOT_A_CITY = frozenset(
    ["Euro", "Euros", "EUR", "Stück", "Units", "Users", "Items", "Bytes", "Zeilen", "Lines"]
)


def _city_ok(value: str) -> bool:
    words = value.split()
    return len(words) >= 2 and words[1].strip("()") not in _NOT_A_CITY


def _cues(alternation: str) -> tuple[str, ...]:
    """The street-type words of a `(?:a|b\\.?|…)` alternation in lower case: a text with
    none of them cannot match the rule (a substring test is far cheaper than the rule)."""
    words = alternation.removeprefix("(?:").removesuffix(")").split("|")
    return tuple(sorted({w.replace("\\.?", "").replace("\\.", ".").lower() for w in words}))


_TWO_WORD_TYPES = r"(?:straße|strasse|str\.|weg|allee|platz|ring|gasse|damm|chaussee|ufer)"

EU_ADDRESS_RULES = [
    Rule("eu_street_address", re.compile(_SUFFIXED + _TAIL), 0.65, cues=_cues(_DE_NL_SUFFIX)),
    Rule("eu_street_address", re.compile(_FR_FIRST + _TAIL), 0.65, cues=_cues(_FR_TYPES)),
    Rule("eu_street_address", re.compile(_DE_TWO_WORDS + _TAIL), 0.65, cues=_cues(_TWO_WORD_TYPES)),
    Rule("eu_street_address", re.compile(_TYPE_FIRST + _TAIL), 0.65, cues=_cues(_TYPES)),
    Rule("eu_street_address", re.compile(_ENGLISH_FIRST), 0.65, cues=_cues(_ENGLISH_TYPES)),
    Rule("eu_postcode_city", re.compile(_POSTCODE_CITY), 0.55, group=1, validate=_city_ok),
]


def eu_address_recognizer() -> RegexRecognizer:
    return RegexRecognizer("LOCATION", EU_ADDRESS_RULES, "EuAddressRecognizer")
