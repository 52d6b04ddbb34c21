"""Technical text (Markdown instructions, tool descriptions, schemas, code) and what makes
a NER name in it believable.

Coding agents send tens of kilobytes of their own instructions with every request; the
small English model reads product names, headings and capitalised words of those as
people and places, and each such placeholder quietly corrupts the instructions. In such
text a PERSON span of the NER alone is replaced only when something corroborates it: a
known given name, a title, or a word that introduces a name; a LOCATION only when it is a
country or follows a word that introduces a place.
"""

from __future__ import annotations

import re
from functools import lru_cache

import regex
from cogate.policies.recognizers.names import GREETINGS, country_names, in_address, known_given
from cogate.policies.recognizers.world.names import fold

# Marks of instructions, schemas and code, by kind: fences and inline code, tags, bullets,
# JSON members, calls and identifiers, paths. (Headings alone do not count: a profile with
# "## User Profile" sections is prose about a person.)
_MARKS = re.compile(
    r"(?P<code>```|`[^`\n]{1,80}`)|(?P<tag></?[a-z][\w\-]*>)|"
    r"(?P<bullet>^[ \t]*(?:[-*+]|\d+\.)[ \t])|"
    r"(?P<json>\"[\w\-]+\"[ \t]*:)|(?P<ident>\w\(\)|\b[a-z]+_[a-z_]+\b)|"
    r"(?P<path>(?:^|[\s(])[.~]?/[\w.\-]+/)",
    re.MULTILINE,
)
_ENOUGH_MARKS = 3
_ENOUGH_KINDS = 2

# Products and vendors of the agents' own instructions that the NER reads as people.
_PRODUCTS_TEXT = (
    "claude anthropic opus sonnet haiku codex openai chatgpt gpt gemini copilot cursor "
    "github gitlab bitbucket mistral llama ollama grok perplexity vscode jetbrains xcode "
    "slack notion jira linear figma vercel netlify heroku stripe twilio sentry datadog "
    "mermaid markdown json yaml toml html css bash zsh powershell npm pnpm yarn pip"
)
PRODUCTS = frozenset(_PRODUCTS_TEXT.split())

# Titles and words that introduce a name shortly before it, in the main European languages.
_TITLES = (
    r"mr|mrs|ms|miss|mx|dr|prof|sir|madam|herr|frau|hr|fr|mme|mlle|madame|monsieur|m|sr|sra|"
    r"srta|señor|señora|don|doña|sig|sig\.ra|signor|signora|dott|dhr|mevr|mevrouw|meneer|"
    r"pan|pani|sr|sra|senhor|senhora|dona"
)
_INTRODUCERS = (
    r"name(?:d| is|:)|called|author|authored|signed-off-by|co-authored-by|reviewed-by|"
    r"by|from|to|cc|with|ask|tell|email|e-mail|mail|message|ping|call|meet|contact|dear|"
    r"hi|hello|thanks|thank you|regards|user|customer|client|patient|employee|"
    r"heiße|heisse|ich bin|je m'appelle|je suis|me llamo|soy|mi chiamo|sono|ik ben|"
    r"heet|chamo-me|sou|nazywam się|jestem|jag heter|jag är|an|für|pour|para|per|voor|dla|"
    + GREETINGS
)
_TITLE = regex.compile(rf"(?i:{_TITLES})")
_BEFORE = regex.compile(
    rf"(?i:(?<![\w])(?:(?:{_TITLES})\.?|{_INTRODUCERS}))[ \t:,]*(?:the[ \t]+)?$"
)
_PLACE_BEFORE = regex.compile(
    r"(?i:(?<![\w])(?:in|at|near|from|to|live[sd]?|based|located|city|town|address|"
    r"nach|aus|à|en|au|aux|desde|a|da|di|w|we|i|från|naar|uit|te))[ \t]+(?:the[ \t]+)?$"
)
_WORDS = regex.compile(r"\p{L}[\p{L}'\u2019\-]*")


def product_name(value: str) -> bool:
    """Every word a product or vendor ("Claude Opus", "GitHub Copilot"): no person."""
    words = [w.lower() for w in _WORDS.findall(value)]
    return bool(words) and all(w in PRODUCTS for w in words)


@lru_cache(maxsize=8192)  # the same words recur in every text: decompose each once
def folded(word: str) -> str:
    """Upper case without accents, as the Census lists spell names ("Sofía" → "SOFIA")."""
    return fold(word)


# Name recognizers whose findings technical text holds to the same support as the NER's.
_LIST_RECOGNIZERS = frozenset({"NameListRecognizer", "AddressedNameRecognizer", "introduction"})


def unsupported(
    text: str, entity: str, start: int, end: int, recognizer: str, *, prose: bool = False
) -> bool:
    """In technical text: a NER name or place without support (`person_corroborated`,
    `place_corroborated`), or a names-list finding that names a product or is one word
    with no title or introducing word before it ("Claude", "Lean", "Apps")."""
    if recognizer == "SpacyRecognizer":
        if entity == "PERSON":
            return not person_corroborated(text, start, end, runs=prose)
        return entity == "LOCATION" and not place_corroborated(text, start, end, runs=prose)
    if entity != "PERSON" or recognizer not in _LIST_RECOGNIZERS:
        return False
    words = _WORDS.findall(text, start, end)
    if any(w.lower() in PRODUCTS for w in words):
        return True
    return len(words) < 2 and not _BEFORE.search(text, max(0, start - 24), start)


# Possessives and determiners of other languages: they open a noun phrase (which German
# capitalises: "für Ihre Nachricht"), never a name.
_DETERMINERS_TEXT = (
    "ihre ihr ihren ihrem ihrer unsere unser unseren seine seinen meine meinen deine keine "
    "diese dieser diesen votre vos notre nos leur leurs sus nuestro nuestra suo loro nostro "
    "nostra onze uw jullie seu nosso nossa swoje nasz nasza sitt våra deras"
)
# Function words of the languages whose text the English NER reads badly: where they
# outnumber English ones around a NER span, the span needs the same support as in
# technical text (the English model takes "Sehr", "Kostnaderna", "Llámame" for names).
_FOREIGN_TEXT = (
    "der die das und ist nicht ein eine ich sie wir mit für auf bitte danke sehr geehrte "
    "le la les et est une un des du pour avec sur pas je vous nous merci "
    "el los las y es para con por una del se al lo mañana gracias "
    "il di che è per con non una gli della sono grazie "
    "het een van de en is niet voor met op ik je wij dank "
    "o os as e é um uma do da dos das para com não obrigado "
    "i w z na do nie jest się że to proszę dziękuję czy jak co ten ta nowa nowy "
    "och är inte att en ett det den som med för på jag vi tack har kan till av " + _DETERMINERS_TEXT
)
FOREIGN_WORDS = frozenset(_FOREIGN_TEXT.split())
DETERMINERS = frozenset(_DETERMINERS_TEXT.split())
_ENGLISH_TEXT = (
    "the and is are of to in for with on at by from this that it be as or not you we "
    "please thanks an was were has have had will would can could should may might must "
    "he she his her him they them their our your my me us been does did yes all "
    "any some there here when what which who how about into over after before than then "
    "also just only very give given gave get got make made said say says its if but "
    "because while where why up out off down one two new old last next first like know "
    "want need send sent let tell told call called see saw see"
)
ENGLISH_WORDS = frozenset(_ENGLISH_TEXT.split())
_SENTENCE_END = re.compile(r"[.!?\n]")
_LOWER_WORDS = re.compile(r"[^\W\d_]+")


def sentence_words(text: str, start: int, end: int) -> tuple[int, int, bool]:
    """Function words of other languages and of English in the sentence around a span,
    and whether it is a sentence (ends in `.`, `!` or `?`) rather than a line."""
    left = max(
        (m.end() for m in _SENTENCE_END.finditer(text, max(0, start - 200), start)),
        default=max(0, start - 200),
    )
    right_match = _SENTENCE_END.search(text, end, end + 200)
    right = right_match.start() if right_match else min(len(text), end + 200)
    # On a line that is no sentence (an address line: "Cite Des Martyrs") the span's own
    # words do not count; in a sentence ("Der Server startet neu.") they do.
    sentence = right_match is not None and right_match.group() in ".!?"
    around = text[left:right] if sentence else text[left:start] + " " + text[end:right]
    words = [w.lower() for w in _LOWER_WORDS.findall(around)]
    foreign = sum(w in FOREIGN_WORDS for w in words)
    english = sum(w in ENGLISH_WORDS for w in words)
    return foreign, english, sentence


def foreign_sentence(text: str, start: int, end: int) -> bool:
    """Whether the sentence around a span is in another language than English (counted
    per sentence: a German line in an English prompt is German)."""
    foreign, english, _ = sentence_words(text, start, end)
    return (foreign >= 1 and english == 0) or (foreign >= 2 and foreign > english)


def english_sentence(text: str, start: int, end: int) -> bool:
    """A sentence with English function words and not more of another language's."""
    foreign, english, _ = sentence_words(text, start, end)
    return english >= 1 and not (foreign >= 2 and foreign > english)


def sentence_without_english(text: str, start: int, end: int) -> bool:
    """A sentence (not an address line or a heading) without one English function word:
    "A nova versão corrige três erros." even where no function word of its own is known."""
    _, english, sentence = sentence_words(text, start, end)
    return sentence and english == 0


def is_technical(text: str) -> bool:
    """Instructions, schemas or code rather than prose: several marks of them."""
    # Dense enough: one mark per 400 characters at least (a long prose text joined from
    # many messages has a few of them by chance).
    enough = max(_ENOUGH_MARKS, len(text) // 400)
    kinds = set()
    for count, match in enumerate(_MARKS.finditer(text), start=1):
        kinds.add(match.lastgroup)
        if count >= enough and len(kinds) >= _ENOUGH_KINDS:
            return True
    return False


def person_corroborated(text: str, start: int, end: int, *, runs: bool = False) -> bool:
    """A NER PERSON span with a known given name (two words or more), or after a title or
    a word that introduces a name; never a product or vendor name."""
    words = _WORDS.findall(text, start, end)
    if not words or any(w.lower() in PRODUCTS for w in words):
        return False
    if words[0].lower() in DETERMINERS:
        return False  # "für Ihre Nachricht": a noun phrase after an introducing word
    if len(words) >= 3 and _TITLE.fullmatch(words[0]):
        words = words[1:]  # "Herr Friedrich Wagner": the name after the title
    if len(words) >= 2 and known_given(words[0]) and words[-1][0].isupper():
        return True
    if _BEFORE.search(text, max(0, start - 24), start):
        return True
    # Outside technical text (`runs`): a run of capitalised words mid-sentence.
    return runs and len(words) >= 2 and _proper_run(text, start, words)


def _proper_run(text: str, start: int, words: list[str]) -> bool:
    """Two capitalised words or more mid-sentence, none a function word ("a Luca Esposito
    domani"): outside English that is a proper name far more often than a noun phrase."""
    before = text[max(0, start - 3) : start].rstrip()
    if not before or before[-1] in ".!?:\n\"'=(":
        return False  # the first words of a sentence or a value are capitalised anyway
    return (
        all(
            (w[0].isupper() or w.lower() in _PARTICLES) and w.lower() not in FOREIGN_WORDS
            for w in words
        )
        and words[0][0].isupper()
    )


_PARTICLES = frozenset({"de", "van", "von", "der", "den", "da", "di", "del", "dos", "le", "la"})


def place_corroborated(text: str, start: int, end: int, *, runs: bool = False) -> bool:
    """A NER LOCATION span that is a country, or follows a word that introduces a place."""
    value = text[start:end]
    words = _WORDS.findall(value)
    if not words or any(w.lower() in PRODUCTS for w in words):
        return False
    if value.strip().lower() in country_names() or in_address(text, start):
        return True
    if runs and len(words) >= 2 and all(w[0].isupper() or w.lower() in _PARTICLES for w in words):
        return True  # "Cite Des Martyrs", "Valverde de Valdelacasa": a place's name
    return bool(_PLACE_BEFORE.search(text, max(0, start - 16), start))
