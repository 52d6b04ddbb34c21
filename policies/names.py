"""PERSON recognizers: name lists, the cues that introduce a name, and spaCy's names cleaned.

The small spaCy model misses many plain names, types lone foreign names as places or
organisations, and takes street names for people. The lists are the US Census first and
last names shipped by the `names` package (public domain data, read from the installed
package, nothing downloaded).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.lang.en.stop_words import STOP_WORDS

# A word as names are spelled: letters of any script, inner hyphens, O'Connor (a possessive
# "'s" is not part of it).
_WORD = regex.compile(r"\p{L}+(?:-\p{L}+)*(?:['\u2019]\p{L}{2,})?")
_TITLE_WORD = regex.compile(r"(?<!\p{L})\p{Lu}\p{L}*(?:-\p{L}+)*(?:['\u2019]\p{L}{2,})?")
_LOWER_WORD = regex.compile(r"(?<!\p{L})\p{Ll}+(?:-\p{Ll}+)*(?:['\u2019]\p{Ll}{2,})?")
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
"""
# First names that are also tools and words of code ("echo", "git", "Chef", "Sage"): never a
# name in lower case nor alone at the start of an instruction, but a capitalised one after a
# determiner mid-sentence is used as a proper noun ("the Sage novel").
_TOOL_NAMES_TEXT = "echo sha git bash chef puppet sage cookie token"
TOOL_NAMES = frozenset(_TOOL_NAMES_TEXT.split())
COMMON = frozenset(_COMMON_WORDS.split()) | TOOL_NAMES
# Words that are never a name on their own: function words, honorifics, nobility, and the
# particles of surnames ("van", "de"), which only count inside a name.
NEVER_FIRST = (
    frozenset(STOP_WORDS)
    | {"lady", "lord", "sir", "dame", "king", "queen", "prince", "princess", "saint", "st"}
    | {"san", "santa", "santo", "são", "sao"}
    | {"van", "von", "de", "del", "della", "der", "den", "da", "di", "du", "la", "le", "el"}
)
# Words that end a name when they follow it: street, unit and company words.
_NOT_SURNAME = """street st avenue ave road rd lane ln drive dr court ct place pl way square sq
    boulevard blvd apt apartment suite unit box floor building inc ltd llc llp plc corp co
    group company bank university college school hospital hotel street station airport
    park center centre city county state river lake mount heights beach bay island islands
    hills springs falls country club md phd dds dvm jr sr"""
NOT_SURNAME = frozenset(_NOT_SURNAME.split())
PARTICLES = ("van der", "van den", "van de", "de la", "van", "von", "de", "del", "da", "di", "du")
_PARTICLE_SET = frozenset(PARTICLES)
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


@lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Lower-cased English names of countries, from phonenumbers' bundled data (offline)."""
    from phonenumbers import geocoder
    from phonenumbers.phonenumberutil import SUPPORTED_REGIONS

    names = (geocoder._region_display_name(region, "en") for region in SUPPORTED_REGIONS)
    return frozenset(name.lower() for name in names if name)


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
    words = list(_WORD.finditer(before))
    # The capitalised run the name sits in, then what comes before it.
    k = len(words)
    while k > 0 and before[words[k - 1].end() :].strip(" .,/") == "":
        word = words[k - 1].group()
        if word.lower() in PLACE_PREFIXES:
            return True
        if word.lower() in MONTHS or (not word[0].isupper() and word.lower() not in PARTICLES):
            break  # "on 3 May John Smith..." is a date before a name
        before = before[: words[k - 1].start()]
        k -= 1
    return bool(_HOUSE_NUMBER.search(before))


def _result(entity: str, start: int, end: int, score: float, name: str, ident: str):
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


class NameListRecognizer(EntityRecognizer):
    """A known first name, with the surnames after it; the other members of a list of
    names ("Kovalev, Lee and Phillips"); first and last names in text typed in lower case.

    A known first name alone counts only when it is not also an everyday English word
    ("Will", "May", "Grace").
    """

    # spaCy's names anchor lists of names, after its own look-ups (`engine.NerLastRegistry`)
    reads_entities = 1

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON", "LOCATION"], name="NameListRecognizer")

    def load(self) -> None:
        name_lists()
        country_names()

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        uncased = is_uncased(text)
        spans = self._names(text, uncased)
        results = [
            _result("LOCATION" if place else "PERSON", s, e, score, self.name, self.id)  # type: ignore[has-type]
            for s, e, score, place in spans
            if not place or "LOCATION" in entities
        ]
        anchors = [(s, e) for s, e, _, place in spans if not place]
        firms = []
        for ent in getattr(nlp_artifacts, "entities", None) or []:
            if ent.label_ == "PERSON" and not in_address(text, ent.start_char):
                anchors.append((ent.start_char, ent.end_char))
            elif ent.label_ == "ORGANIZATION":
                firms.append((ent.start_char, ent.end_char))
        for start, end in _list_members(text, anchors, firms, uncased):
            results.append(_result("PERSON", start, end, 0.6, self.name, self.id))  # type: ignore[has-type]
        return results

    def _names(self, text: str, uncased: bool) -> list[tuple[int, int, float, bool]]:
        """(start, end, score, part of a street or place name) of each name found."""
        first, last = name_lists()
        # Only capitalised words can be names in a cased text (and there are few of them).
        words = list((_LOWER_WORD if uncased else _TITLE_WORD).finditer(text))
        out = []
        i = 0
        while i < len(words):
            word = words[i].group()
            lower = word.lower()
            if uncased:
                candidate = word.upper() in first and lower not in COMMON
            else:
                candidate = is_capitalised(word) and word.upper() in first
            if (
                not candidate
                or lower in NEVER_FIRST
                or text[words[i].end() : words[i].end() + 1].isdigit()
            ):
                i += 1  # "Ed25519": an identifier, not Ed
                continue
            # "Rue Victor Hugo", "San Luis": a street or a place named after someone.
            place = in_address(text, words[i].start())
            end, j, surnames = _surnames(text, words, i, uncased, last)
            common = lower in COMMON and not _proper_tool_name(text, words[i].start(), lower)
            if _ORG_NEXT.match(text, end):
                i = j  # "Davis Ltd.", "Jackson Group": a company named after someone
                continue
            if surnames and (uncased or not common or _known_surname(words[i + 1].group(), last)):
                score = 0.75  # "Will Smith", but not "Faith Hope"
            elif common or lower in country_names():
                i += 1  # alone, "Israel" or "Chad" is more likely the country
                continue
            elif not_a_person(text, words[i].start(), end):
                i += 1  # alone before a noun ("the Valencia trip") or a task word
                continue
            else:
                score = 0.5
            out.append((words[i].start(), end, score, place))
            i = j
        return out


def _proper_tool_name(text: str, start: int, lower: str) -> bool:
    """A capitalised tool word after a determiner, mid-sentence: "the Sage novel" names
    someone; "Echo back..." or "git rebase" do not (see TOOL_NAMES)."""
    return lower in TOOL_NAMES and bool(_ATTRIBUTIVE.search(text, max(0, start - 6), start))


def _known_surname(word: str, last: frozenset[str]) -> bool:
    return word.upper() in last and word.lower() not in COMMON


# "Kovalev, Lee and Phillips", "Mark, Kaylee, Brandi and Miguel": single words joined by
# commas and one "and"/"&".
_MEMBER = r"(?<!\p{L})\p{L}+(?:-\p{L}+)*"
_LIST = regex.compile(rf"{_MEMBER}(?:, {_MEMBER})*,? (?:and|&) {_MEMBER}")
_CAPITALISED_LIST = regex.compile(
    r"(?<!\p{L})\p{Lu}\p{L}*(?:-\p{L}+)*(?:, \p{Lu}\p{L}*(?:-\p{L}+)*)*,? (?:and|&) \p{Lu}"
    r"\p{L}*(?:-\p{L}+)*"
)
_ORG_NEXT = regex.compile(
    r"[ \t]+(?i:inc|ltd|llc|llp|plc|corp|co|group|company|bank|university|college|school|"
    r"hospital|hotel|foundation|institute)\b"
)
_WORD_BEFORE = regex.compile(r"\p{Lu}\p{L}*[ \t]$")
_WORD_AFTER = regex.compile(r"[ \t]+\p{Lu}")
_ORG_AFTER = regex.compile(r"\s*(?:office|offices|llp|llc|inc|ltd|law|group|partners|&)\b", re.I)


def _list_members(text: str, anchors: list[tuple[int, int]], firms: list, uncased: bool):
    """Members of a list of single names in which at least one name was found.

    `firms` are the organisations spaCy found: a list inside one ("Thomas, Holt and
    Myers") is the name of a firm.
    """
    if not anchors:
        return
    first, last = name_lists()
    for match in (_LIST if uncased else _CAPITALISED_LIST).finditer(text):
        members = [m for m in regex.finditer(_MEMBER, match.group()) if m.group() != "and"]
        if not uncased and not all(is_capitalised(m.group()) for m in members):
            continue
        if any(m.group().lower() in NEVER_FIRST | NOT_SURNAME for m in members):
            continue
        if uncased and not all(
            m.group().upper() in first or m.group().upper() in last for m in members
        ):
            continue
        if _WORD_BEFORE.search(
            text[max(0, match.start() - 40) : match.start()]
        ) or _WORD_AFTER.match(text, match.end()):
            continue  # a member of several words: "Brinckerhoff and Social Explorer"
        before = text[max(0, match.start() - 4) : match.start()].lower()
        if before.endswith(("the ", "at ", "to ")) or _ORG_AFTER.match(text, match.end()):
            continue  # "The Jones, Mitchell and Williams office", "Bryan and Main Street"
        spans = [(match.start() + m.start(), match.start() + m.end()) for m in members]
        if any(fs <= spans[0][0] and fe >= spans[1][1] for fs, fe in firms):
            continue
        if not any(s < ae and as_ < e for s, e in spans for as_, ae in anchors):
            continue
        for start, end in spans:
            if not any(start >= as_ and end <= ae for as_, ae in anchors):
                yield start, end


_LATIN = regex.compile(r"\p{Latin}")
# Words spaCy's small model takes for a lone name at the start of an instruction or before
# a product: task verbs and nouns, and camel-case product names ("HelpBot", "GitHub").
_TASK_WORDS_TEXT = (
    "remind email e-mail mail call text message ping schedule book draft write send reply "
    "summarize summarise translate review fix update check add create delete remove list "
    "show find help note todo meeting calendar invoice report agenda ticket task plan "
    "rewrite explain compare generate convert format refactor debug test deploy run open "
    "close cancel confirm thanks thank hello hi hey dear regards cheers please kindly "
    "urgent reminder follow followup sync standup memo notes minutes subject re fwd cc "
    "bcc"
)
_TASK_WORDS = frozenset(_TASK_WORDS_TEXT.split())
_PRODUCT = regex.compile(
    r"^\p{Lu}\p{Ll}+(?:Bot|Hub|Pal|Box|Lab|Labs|Soft|Base|Desk|Flow|Pay|Book|Cloud|Net|Web|"
    r"App|Kit|Chat|Bank|Mail|Drive|Sheet|Doc|Docs|Code|Script|Stack|Space|Point|Force|Lens)$"
)
_ENV_NAME = regex.compile(r"^[A-Z0-9]*_[A-Z0-9_]*$")
# Code in the span (`self.hasher.hash(`, `TimeoutError`), camel case with a capital after a
# longer lower-case run ("GraphQL", "JavaScript"; not "McKenzie", "MacArthur", "DeShawn").
_CODE = regex.compile(
    r"[()\[\]{}=<>;]|\p{Ll}\.\p{Ll}|(?:Error|Exception|Warning)$|^\p{Lu}\p{Ll}{3,}\p{Lu}"
)
_ACRONYM = regex.compile(r"^[A-Z]{2,5}$")
# snake_case identifiers and the words of code spaCy's small model reads as names.
_SNAKE = regex.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
_CODE_WORDS_TEXT = (
    "exc err self cls args kwargs str int dict list none true false def return raise "
    "import async await lambda yield"
)
_CODE_WORDS = frozenset(_CODE_WORDS_TEXT.split())
# Places written as acronyms, US states and Canadian provinces among them.
_PLACE_ACRONYMS_TEXT = (
    "USA US UK UAE NYC LA SF DC EU GB AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY ME "
    "MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV "
    "WI WY PR AB BC MB NB NL NS NT NU ON PE QC SK YT NSW QLD WA VIC ACT"
)
_PLACE_ACRONYMS = frozenset(_PLACE_ACRONYMS_TEXT.split())
# Languages, tools and units the small model types as places or people.
_TECH_WORDS_TEXT = (
    "python java javascript typescript rust kotlin swift scala perl haskell elixir "
    "golang linux windows macos ubuntu debian docker kubernetes redis postgres nginx "
    "apache fahrenheit celsius excel jupyter pandas numpy django flask react "
    "angular vue"
)
_TECH_WORDS = frozenset(_TECH_WORDS_TEXT.split())
# A determiner right before a lone capitalised word, a travel or place noun after it: a
# place used as an attribute ("the Valencia trip"; "the Takuda novel" stays a person).
_ATTRIBUTIVE = regex.compile(r"(?i:\bthe|\bour|\byour|\bthis|\bthat)\s+$")
_PLACE_NOUN = regex.compile(
    r"\s+(?:trip|itinerary|office|branch|airport|area|region|campus|hotel|flight|weather|"
    r"vacation|holiday|visit|market|station|conference|offsite|route|tour)s?\b"
)


def not_a_person(text: str, start: int, end: int) -> bool:
    """spaCy PERSON spans that are instructions, products, variables or attributes."""
    value = text[start:end]
    if _ENV_NAME.match(value) or _PRODUCT.match(value):
        return True
    if not_a_name(value) and not _hashtag(text, start, end):
        return True
    if " " in value.strip():
        return False
    if value.lower() in _TASK_WORDS:
        return True
    # "the Valencia trip": a lone word between a determiner and a lower-case noun.
    return _attribute_of(text, start, end) is not None


_CAMEL_PART = regex.compile(r"\p{Lu}\p{Ll}+")


def _hashtag(text: str, start: int, end: int) -> bool:
    """A hashtag with a first name among its camel-case words ("#OrganicBeautyWithChloe"):
    social-media text about someone, not code ("#MainHeader" in a stylesheet stays code)."""
    if start < 1 or text[start - 1] != "#" or not text[start:end].isalpha():
        return False
    if start > 1 and not text[start - 2].isspace():
        return False
    first = name_lists()[0]
    return any(
        w.upper() in first and w.lower() not in COMMON
        for w in _CAMEL_PART.findall(text, start, end)
    )


def _attribute_of(text: str, start: int, end: int) -> str | None:
    """The type of a lone word used as an attribute: "the Valencia trip", "the Acme office"
    a LOCATION (a place is removed; "the Smith office" may be someone's, so it is not typed
    an organisation, which the default policy keeps); None when it is not one."""
    if not _ATTRIBUTIVE.search(text, max(0, start - 6), start):
        return None
    return "LOCATION" if _PLACE_NOUN.match(text, end) else None


_QUOTE_MARKS = regex.compile(r"(?m)^[ \t]*>+")


def not_a_name(value: str) -> bool:
    """spaCy PERSON or LOCATION spans that are code, acronyms or technical words."""
    # A quoted e-mail's line markers ("Ashley Belov\n>Mclaughlin Ltd.") are not code.
    stripped = _QUOTE_MARKS.sub("", value).strip()
    if _CODE.search(stripped) or stripped.lower() in _TECH_WORDS:
        return True
    if _SNAKE.match(stripped) or stripped in _CODE_WORDS:
        return True
    return bool(_ACRONYM.match(stripped)) and stripped not in _PLACE_ACRONYMS


# Tokens spaCy runs into a name from the address or credentials that follow it.
_TRAILING = regex.compile(
    r"(?:[\s,]+(?:\d[\w\-/]*|(?i:apt|apartment|suite|unit|box|md|phd|dds|dvm)\.?))+$"
)


# Words after which an all-capitals word is a place: "home city DOLE".
_PLACE_BEFORE = regex.compile(r"(?i:\b(?:city|town|village|county|province)\s+)$")
# A house number after a street name, as much of Europe writes it ("Αλεξάνδρου 189").
_NUMBER_AFTER = regex.compile(r"[ \t]+\d{1,5}[A-Za-z]?\b")
# The line break and quote markers ("\n>") spaCy runs onto the end of a name in a quoted
# e-mail.
_QUOTE_TAIL = regex.compile(r"[ \t]*\n[\s>]*$")


def _place_context(text: str, start: int) -> bool:
    """In an address, or after a place word ("home city DOLE")."""
    return in_address(text, start) or bool(_PLACE_BEFORE.search(text, max(0, start - 12), start))


def _other_script_guess(value: str) -> bool:
    """A span in another script than Latin, which the English model only guesses at; an
    upper-case place name ("ΛΕΜΕΣΟΣ") or one with a number (an address) is kept."""
    if _LATIN.search(value) or not any(c.isalpha() for c in value):
        return False
    return not (value.isupper() or any(c.isdigit() for c in value))


def _other_script_street(text: str, start: int, end: int) -> bool:
    """A span in another script whose words are all capitalised, on an address line: after a
    house number ("71 Λεωφ. Ηρώων Πολυτεχνείου") or before one ("Λεωφόρος Β. Αλεξάνδρου
    189"). A sentence ("Напиши письмо") has lower-case words and no number."""
    words = _WORD.findall(text, start, end)
    if not words or not all(w[0].isupper() for w in words):
        return False
    return in_address(text, start) or bool(_NUMBER_AFTER.match(text, end))


def _not_a_place(text: str, start: int, value: str) -> bool:
    """spaCy LOCATION spans that are code or acronyms; an all-capitals word in an address or
    after a place word ("rue La Boétie, PARIS", "home city DOLE") stays a place."""
    if not not_a_name(value):
        return False
    if not _ACRONYM.match(value.strip()):
        return True
    return not _place_context(text, start)


def _retyped(result: RecognizerResult, entity: str, entities) -> RecognizerResult | None:
    """`result` as `entity`, or None when that type is not looked for."""
    if entity not in entities:
        return None
    result.entity_type = entity
    return result


class PersonSpacyRecognizer(SpacyRecognizer):
    """spaCy's entities, with its PERSON spans cleaned: unit numbers and degrees run into a
    name ("Diana Weöres Apt") cut off, street names ("92 Eusebio Dávila 57") typed as the
    places they are."""

    def analyze(self, text: str, entities, nlp_artifacts=None):
        out = []
        for result in super().analyze(text, entities, nlp_artifacts):
            kept = clean_entity(text, result, entities)
            if kept is not None:
                out.append(kept)
        return out


def clean_entity(text: str, result: RecognizerResult, entities) -> RecognizerResult | None:
    """One spaCy entity kept, retyped or cut; None when it is no name and no place."""
    tail = _QUOTE_TAIL.search(text, result.start, result.end)
    if tail is not None and tail.start() > result.start:
        result.end = tail.start()  # "Katherine Acevedo\n>": the name, not the quote marker
    value = text[result.start : result.end]
    if _other_script_guess(value):
        if _other_script_street(text, result.start, result.end):
            return _retyped(result, "LOCATION", entities)
        return None  # the English model guessing at another script ("Напиши")
    if not any(c.isalnum() for c in value):
        return None  # a symbol ("¦") is nobody's name and no place
    if result.entity_type == "LOCATION":
        return None if _not_a_place(text, result.start, value) else result
    if result.entity_type != "PERSON":
        return result
    if not_a_person(text, result.start, result.end):
        if _ACRONYM.match(value.strip()) and _place_context(text, result.start):
            return _retyped(result, "LOCATION", entities)  # "home city DOLE"
        # "the Valencia trip", "the Acme office" a place; code and tool words nothing.
        kind = _attribute_of(text, result.start, result.end)
        return _retyped(result, kind, entities) if kind else None
    first = value.split(None, 1)[0].lower().rstrip(".")
    if any(c.isdigit() for c in value) or first in NOT_SURNAME or in_address(text, result.start):
        return _retyped(result, "LOCATION", entities)
    trailing = _TRAILING.search(text, result.start, result.end)
    if trailing is not None and trailing.start() > result.start:
        result.end = trailing.start()
    return result


def _surnames(
    text: str, words: list[regex.Match], i: int, uncased: bool, last: frozenset[str]
) -> tuple[int, int, int]:
    """(end of the name, index of the next word, surnames taken) after the first name at
    `words[i]`: up to two surnames, with particles ("de", "van der") in a cased text."""
    end, j = words[i].end(), i + 1
    surnames = 0
    while j < len(words) and surnames < 2:
        gap = text[end : words[j].start()]
        nxt = words[j].group()
        if not uncased and gap != " " and gap.strip().lower() in _PARTICLE_SET:
            # "Teresa de Vaan", "Paul van der Voet": the particle, then the surname.
            if gap != " " + gap.strip() + " " or nxt.lower() in NOT_SURNAME:
                break
        elif gap not in (" ", "_") or nxt.lower() in NOT_SURNAME or nxt.lower() in NEVER_FIRST:
            break  # "Margaret_Thornbury": an identifier joins first name and surname with `_`
        known = nxt.upper() in last and nxt.lower() not in COMMON
        if not (known if uncased else is_capitalised(nxt)):
            break
        end, j, surnames = words[j].end(), j + 1, surnames + 1
    return end, j, surnames
