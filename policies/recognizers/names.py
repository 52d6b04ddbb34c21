"""The vocabulary of PERSON detection: common and tool words, name particles, the first
and last name lists and the helpers the name recognizers share.

The lists are the US Census first and last names shipped by the `names` package (public
domain data, read from the installed package, nothing downloaded), and the top given names
and surnames of many countries from `names-dataset` (`world/names.py`, a compact file
derived once from the installed package).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import regex
from cogate.policies.recognizers.world.names import fold, stop_words, world_names
from presidio_analyzer import RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

# A word as names are spelled: letters of any script, inner hyphens, O'Connor (a possessive
# "'s" is not part of it).
WORD = regex.compile(r"\p{L}+(?:-\p{L}+)*(?:['\u2019]\p{L}{2,})?")
TITLE_WORD = regex.compile(r"(?<!\p{L})\p{Lu}\p{L}*(?:-\p{L}+)*(?:['\u2019]\p{L}{2,})?")
LOWER_WORD = regex.compile(r"(?<!\p{L})\p{Ll}+(?:-\p{Ll}+)*(?:['\u2019]\p{Ll}{2,})?")
# First names that are everyday words, months, places or sentence openers.
_COMMON_WORDS = """
will may june april august mark bill grant faith hope joy grace rose lily ivy dawn summer
autumn sunny ray art rich rob sue pat don jack jan chase max page paris georgia virginia
carolina florida jordan china india asia an in is it as so my me we he she be do go no
or on at by to of the and but for not all can see sky star love major king queen prince
princess earl duke baron young long white black brown green gray grey early dear son sonny
day night morning christian christmas easter monday friday sunday rock stone river lake hill
dale glen wood forest field clay bay cliff gay guy dean miles frank noble royal sterling
price may-day mercy patience prudence charity honor honour justice liberty harmony melody
destiny trinity crystal amber ruby pearl jade coral jewel diamond ginger olive hazel violet
iris daisy holly heather willow autumn rain storm shadow angel god lord man men woman women
major general captain doctor nurse judge page sandy rusty dusty buck carol deb eve lane
ok okay many else soon season chance song miss sun moon spring winter carry numbers brain
loan golden era tiny desire hang bell marine german irish america january september un ha
"""
# First names that are also tools and words of code ("echo", "git", "Chef", "Sage"): never a
# name in lower case nor alone at the start of an instruction, but a capitalised one after a
# determiner mid-sentence is used as a proper noun ("the Sage novel").
_TOOL_NAMES_TEXT = "echo sha git bash chef puppet sage cookie token"
TOOL_NAMES = frozenset(_TOOL_NAMES_TEXT.split())
# Possessives, pronouns and conjunctions of the main European languages that are also in
# the first-name lists ("Mi DNI", "Ma carte", "Min adress").
_EUROPEAN_TEXT = (
    "mi mis mein meine meinen meiner mijn mon ma mes min mitt mina mia mio mie miei meu meus "
    "minha moja mój moje su sus sua tu tus ton ta tes je ich ik yo io eu ja jag du und oder "
    "et ou y e o och og les le la den det vi czy nowa il lo gli una uno het een des"
)
EUROPEAN_WORDS = frozenset(_EUROPEAN_TEXT.split())
COMMON = frozenset(_COMMON_WORDS.split()) | TOOL_NAMES | EUROPEAN_WORDS
# Greetings before a name, in English and the eight other languages cogate reads (a regular
# expression alternation, matched case-insensitively): "Gentile Pietro Bianchi,", "Beste
# Dean van Drenthe,", "Dzień dobry Elżbieta Szczerek,".
GREETINGS = (
    r"hi|hello|hey|dear|hallo|liebe|lieber|sehr geehrte|sehr geehrter|bonjour|salut|cher|"
    r"chère|hola|estimado|estimada|querido|querida|buongiorno|gentile|gentili|caro|cara|"
    r"ciao|beste|geachte|hoi|olá|ola|prezado|prezada|dzień dobry|witaj|szanowny|szanowna|"
    r"hej|kära"
)
# Words that are never a name on their own: function words, honorifics, nobility, and the
# particles of surnames ("van", "de"), which only count inside a name.
NEVER_FIRST = (
    frozenset(STOP_WORDS)
    | {"lady", "lord", "sir", "dame", "king", "queen", "prince", "princess", "saint", "st"}
    | {"san", "santa", "santo", "são", "sao"}
    | {"van", "von", "de", "del", "della", "der", "den", "da", "di", "du", "la", "le", "el"}
    | EUROPEAN_WORDS
)
# Words that end a name when they follow it: street, unit and company words.
_NOT_SURNAME = """street st avenue ave road rd lane ln drive dr court ct place pl way square sq
    boulevard blvd apt apartment suite unit box floor building inc ltd llc llp plc corp co
    group company bank university college school hospital hotel street station airport
    park center centre city county state river lake mount heights beach bay island islands
    hills springs falls country club md phd dds dvm jr sr"""
NOT_SURNAME = frozenset(_NOT_SURNAME.split())
PARTICLES = ("van der", "van den", "van de", "de la", "van", "von", "de", "del", "da", "di", "du")
PARTICLE_SET = frozenset(PARTICLES)
# Words before which a name is part of a place or a street: "San Luis", "Rue Victor Hugo".
_PLACE_PREFIXES = """el la los las san santa santo são sao st saint ste via rue rua calle c
    avenida avda av avenue cours vila villa travessa alameda zona port fort mount mt lake
    ciudad colonia ul ulica str piazza plaza praça largo"""
PLACE_PREFIXES = frozenset(_PLACE_PREFIXES.split())
_MONTHS = """january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec"""
MONTHS = frozenset(_MONTHS.split())
_HOUSE_NUMBER = re.compile(r"\d+[A-Za-z]?[ \t]*$")


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names), upper-cased, from the installed `names` package."""
    try:
        package = resources.files("names")
    except ModuleNotFoundError:
        raise RuntimeError(
            "cogate's PERSON name lists come from the `names` package, which is not "
            "installed; install it (pip install names) or reinstall cogate"
        ) from None

    def read(name: str) -> frozenset[str]:
        text = package.joinpath(name).read_bytes().decode("ascii", errors="ignore")
        return frozenset(line.split()[0] for line in text.splitlines() if line.strip())

    first = read("dist.female.first") | read("dist.male.first")
    return frozenset(n for n in first if len(n) > 1), read("dist.all.last")


def is_given(key: str) -> bool:
    """A folded word (`fold`) is a given name of the Census list or of some country (two
    look-ups rather than one merged set: the merged copy would double their memory)."""
    return key in name_lists()[0] or key in world_names().given


def is_surname(key: str) -> bool:
    return key in name_lists()[1] or key in world_names().surnames


def known_given(word: str) -> bool:
    """A given name of some country ("Sofía", "Daan", "Wojciech") that is no everyday
    word ("Will", "May") nor a stop word of a language cogate reads ("Der", "Per")."""
    key = fold(word)
    return is_given(key) and word.lower() not in COMMON and key.lower() not in stop_words()


def known_surname(word: str) -> bool:
    return is_surname(fold(word)) and word.lower() not in COMMON


@lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Lower-cased English names of countries, from phonenumbers' bundled data (offline)."""
    from phonenumbers import geocoder
    from phonenumbers.phonenumberutil import SUPPORTED_REGIONS

    names = (geocoder._region_display_name(region, "en") for region in SUPPORTED_REGIONS)
    return frozenset(name.lower() for name in names if name)


def opens_sentence(text: str, start: int) -> bool:
    """The word at `start` opens a sentence, a line or a quoted value."""
    before = text[max(0, start - 4) : start].rstrip(" \t")
    return not before or before[-1] in ".!?:;\n\"'=(«„¿¡"


def is_capitalised(word: str) -> bool:
    """Name case: "Anna", "McKenzie", "DeRose", not "ANNA" nor "anna"."""
    return word[0].isupper() and any(c.islower() for c in word[1:])


def is_uncased(text: str) -> bool:
    """Typed all in lower case, where capitals are no cue to a name."""
    return not any(c.isupper() for c in text)


def in_address(text: str, start: int) -> bool:
    """Whether the words ending at `start` belong to a street: after a house number or a
    street word on the same line ("92 Eusebio Dávila", "Via Carlo Cattaneo", "San Luis")."""
    line_start = max(text.rfind("\n", 0, start) + 1, start - 60)
    before = text[line_start:start]
    words = list(WORD.finditer(before))
    # The capitalised run the name sits in, then what comes before it.
    k = len(words)
    while k > 0 and before[words[k - 1].end() :].strip(" .,/") == "":
        word = words[k - 1].group()
        if word.lower() in PLACE_PREFIXES and not _bare_abbreviation(word, before, words[k - 1]):
            return True
        if word.lower() in MONTHS or (not word[0].isupper() and word.lower() not in PARTICLES):
            break  # "on 3 May John Smith..." is a date before a name
        before = before[: words[k - 1].start()]
        k -= 1
    return bool(_HOUSE_NUMBER.search(before))


def _bare_abbreviation(word: str, before: str, match: regex.Match) -> bool:
    """ "av" without its dot: the Swedish and Norwegian "by/of" ("skrevs av Per Sjöberg"),
    not the Portuguese and Spanish "Av." for avenida."""
    return word.lower() == "av" and before[match.end() : match.end() + 1] != "."


def name_result(entity: str, start: int, end: int, score: float, name: str, ident: str):
    return RecognizerResult(
        entity,
        start,
        end,
        score,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: ident,
        },
    )
