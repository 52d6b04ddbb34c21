"""What is no person although it looks like a name: task and code words, products,
acronyms of places, attributes ("the Valencia trip"), hashtags, quoted identifiers."""

from __future__ import annotations

import regex
from cogate.policies.recognizers.names import COMMON, GREETINGS, WORD, in_address, name_lists

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
ACRONYM = regex.compile(r"^[A-Z]{2,5}$")
# Quarters, buckets, instance and paper sizes: "Q3", "S3", "C4", "A4", "EC2", "G5".
_SHORT_CODE = regex.compile(r"^[A-Z]{1,3}\d{1,2}$")
# Words that open a PERSON span of the NER without being part of the name: instruction
# verbs ("Email Tom Baker about…") and possessives before an identifier's cue word
# ("Meine Steuer-ID", "Mi DNI", "Mijn BSN").
_VERBS = (
    r"remind|email|e-mail|mail|call|text|message|ping|ask|tell|invite|cc|bcc|"
    r"contact|phone|write|send|reply|greet|thank|meet|notify|inform|"
    # the same requests in German, French, Spanish, Italian, Dutch, Portuguese, Polish and
    # Swedish ("Ruf Anna Schmidt morgen an", "Stuur Pieter van Dijk de factuur")
    r"schreib|schreibe|schick|schicke|sende|ruf|rufe|frag|frage|antworte|informiere|"
    r"kontaktiere|erinnere|écris|ecris|envoie|appelle|contacte|réponds|demande|préviens|"
    r"rappelle|escribe|envía|envia|llama|contacta|responde|pregunta|avisa|recuerda|scrivi|"
    r"invia|chiama|contatta|rispondi|chiedi|avvisa|ricorda|stuur|bel|schrijf|vraag|"
    r"antwoord|herinner|escreve|escreva|envie|ligue|telefona|napisz|wyślij|zadzwoń|"
    r"odpowiedz|zapytaj|przypomnij|skriv|skicka|ring|kontakta|svara|fråga|påminn"
)
_POSSESSIVES = r"mein|meine|meinen|mi|mijn|mon|ma|mes|min|mitt|mia|mio|meu|minha|moja|mój|my"
# Greetings the NER runs into the name it greets ("Gentile Pietro Bianchi,") go too.
LEADING = regex.compile(rf"(?i:(?:{_VERBS}|{_POSSESSIVES}|{GREETINGS})\s+)+")
# An instruction verb the NER took for a name by itself ("Ruf mich an"); a possessive
# alone may be one ("Mia", "Ma").
LONE_VERB = regex.compile(rf"(?i:(?:{_VERBS})\s)")
# The cue words of identifiers that the NER takes for a name ("Steuer-ID", "DNI", "BSN").
_ID_CUES_TEXT = (
    "steuer-id steuerid steuernummer ausweis personalausweis personalausweisnummer idnr "
    "ust-idnr dni nie nif nir bsn pesel nip personnummer cpr hetu ahv avs iban bic "
    "sozialversicherungsnummer codice fiscale partita iva siren siret tva btw"
)
ID_CUES = frozenset(_ID_CUES_TEXT.split())
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
ATTRIBUTIVE = regex.compile(r"(?i:\bthe|\bour|\byour|\bthis|\bthat)\s+$")
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
    return attribute_of(text, start, end) is not None


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


def attribute_of(text: str, start: int, end: int) -> str | None:
    """The type of a lone word used as an attribute: "the Valencia trip", "the Acme office"
    a LOCATION (a place is removed; "the Smith office" may be someone's, so it is not typed
    an organisation, which the default policy keeps); None when it is not one."""
    if not ATTRIBUTIVE.search(text, max(0, start - 6), start):
        return None
    return "LOCATION" if _PLACE_NOUN.match(text, end) else None


_QUOTE_MARKS = regex.compile(r"(?m)^[ \t]*>+")


def not_a_name(value: str) -> bool:
    """spaCy PERSON or LOCATION spans that are code, acronyms or technical words."""
    # A quoted e-mail's line markers ("Ashley Belov\n>Mclaughlin Ltd.") are not code.
    stripped = _QUOTE_MARKS.sub("", value).strip()
    if _CODE.search(stripped) or stripped.lower() in _TECH_WORDS:
        return True
    if _SNAKE.match(stripped) or stripped in _CODE_WORDS or _SHORT_CODE.match(stripped):
        return True
    return bool(ACRONYM.match(stripped)) and stripped not in _PLACE_ACRONYMS


# Tokens spaCy runs into a name from the address or credentials that follow it.
TRAILING = regex.compile(
    r"(?:[\s,]+(?:\d[\w\-/]*|(?i:apt|apartment|suite|unit|box|md|phd|dds|dvm)\.?))+$"
)


# Words after which an all-capitals word is a place: "home city DOLE".
_PLACE_BEFORE = regex.compile(r"(?i:\b(?:city|town|village|county|province)\s+)$")
# A house number after a street name, as much of Europe writes it ("Αλεξάνδρου 189").
_NUMBER_AFTER = regex.compile(r"[ \t]+\d{1,5}[A-Za-z]?\b")
# The line break and quote markers ("\n>") spaCy runs onto the end of a name in a quoted
# e-mail.
QUOTE_TAIL = regex.compile(r"[ \t]*\n[\s>]*$")


def place_context(text: str, start: int) -> bool:
    """In an address, or after a place word ("home city DOLE")."""
    return in_address(text, start) or bool(_PLACE_BEFORE.search(text, max(0, start - 12), start))


def other_script_guess(value: str) -> bool:
    """A span in another script than Latin, which the English model only guesses at; an
    upper-case place name ("ΛΕΜΕΣΟΣ") or one with a number (an address) is kept."""
    if _LATIN.search(value) or not any(c.isalpha() for c in value):
        return False
    return not (value.isupper() or any(c.isdigit() for c in value))


def other_script_street(text: str, start: int, end: int) -> bool:
    """A span in another script whose words are all capitalised, on an address line: after a
    house number ("71 Λεωφ. Ηρώων Πολυτεχνείου") or before one ("Λεωφόρος Β. Αλεξάνδρου
    189"). A sentence ("Напиши письмо") has lower-case words and no number."""
    words = WORD.findall(text, start, end)
    if not words or not all(w[0].isupper() for w in words):
        return False
    return in_address(text, start) or bool(_NUMBER_AFTER.match(text, end))


def not_a_place(text: str, start: int, value: str) -> bool:
    """spaCy LOCATION spans that are code or acronyms; an all-capitals word in an address or
    after a place word ("rue La Boétie, PARIS", "home city DOLE") stays a place."""
    if not not_a_name(value):
        return False
    if not ACRONYM.match(value.strip()):
        return True
    return not place_context(text, start)
