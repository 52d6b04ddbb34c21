"""Which sentences of a text are French, so that French NER reads them and English NER the
rest. Decided per sentence, never per request: a prompt that quotes a French e-mail in an
English question is the common case.

A sentence goes to the language identifier (lingua, built for the languages cogate tells
apart, in its low-accuracy mode: ~13 MB against ~240 MB) only when it shows a sign of
French: an accented letter French uses, an elided article or pronoun, or a French function
word. English text rarely shows one, so it costs one regular-expression search.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from cogate.policies.detect.ner_worker import MAX_TEXT, NOT_FOR_FRENCH_NER
from cogate.policies.recognizers.technical import ENGLISH_WORDS

# The languages bench/languages.py covers and cogate tells apart (lingua's names).
LANGUAGES = (
    "ENGLISH",
    "FRENCH",
    "GERMAN",
    "SPANISH",
    "ITALIAN",
    "DUTCH",
    "PORTUGUESE",
    "POLISH",
    "SWEDISH",
)
Ranges = list[tuple[int, int]]

_FRENCH_SIGN = re.compile(
    r"[àâçèéêëîïôùûœ]|\b[cdjlmnqst]['’][^\W\d_]"
    # Not the words other languages use as much ("du" and "des" German, "je" Dutch, "il",
    # "que", "tu"…): a German text would ask the identifier at every "du".
    r"|\b(?:le|la|les|une|est|et|pour|avec|dans|sur|pas|vous|nous|elle|au|aux|cette|mais|"
    r"sont|merci|bonjour|chez|mon|votre|vos|notre)\b",
    re.IGNORECASE,
)
# French function words: a sentence needs more of them than of English ones before the
# identifier is asked (low-accuracy lingua took "I am in Mansilla de la Sierra for a
# business trip" for French), so names and places alone never make a sentence French.
_FRENCH_TEXT = (
    "le la les des du de un une est et pour avec dans sur pas ne je tu vous nous il elle ils "
    "elles on au aux ce cette ces qui que mais ou où sont merci bonjour chez mon ma mes ton "
    "ta tes son sa ses votre vos notre nos à en y"
)
FRENCH_WORDS = frozenset(_FRENCH_TEXT.split())
# Of those, words the other languages cogate tells apart do not have as function words
# ("des" is German, "je" Dutch, "mais" Portuguese, "qui" Italian), and elisions Italian
# does not share: with three of them and no English word, the identifier need not be asked.
_SURELY_FRENCH_TEXT = (
    "les est et pour avec dans sur pas vous nous elle ils elles au aux cette ces où sont "
    "merci bonjour chez votre notre ton tes ses"
)
SURELY_FRENCH = frozenset(_SURELY_FRENCH_TEXT.split())
_SURE_ELISION = re.compile(r"\b(?:[jcn]|qu)['’](?=[^\W\d_])")
SURE = 3
_WORDS = re.compile(r"[^\W\d_]+")
MIN_WORDS = 3
_ELISION = re.compile(r"\b[cdjlmnqst]['’](?=[^\W\d_])")
_OPENING_ELISION = re.compile(r"[^\w]*(?:[CDJLMNQST]|Qu)['’](?=[^\W\d_])")
# A sentence: up to its end mark followed by a space (not the dot of `notes.search` or
# `3.5`) and the spaces after it, or a line.
_SENTENCE = re.compile(
    r"(?:[^\n.!?]|[.!?]++(?![\"')\]»]*+(?:[ \t\n]|$)))*+"
    r"(?:[.!?]+[\"')\]»]*[ \t]*|\n+|$)"
)


def sentences(text: str) -> Ranges:
    """The text's sentences as (start, end), ends exclusive, blank ones left out."""
    out = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        if end > start and not text[start:end].isspace():
            out.append((start, end))
    return out


def signed_sentences(text: str, signs: list[int]) -> Ranges:
    """The sentences of `text` holding one of the `signs` (positions, in order): one search
    of the whole text instead of one per sentence."""
    out, at = [], 0
    for start, end in sentences(text):
        while at < len(signs) and signs[at] < start:
            at += 1
        if at == len(signs):
            break
        if signs[at] < end:
            out.append((start, end))
    return out


def leaning(sentence: str) -> tuple[bool, bool]:
    """Whether a sentence leans French: three words or more ("Le Roux," after "Dear Mr." is
    no sentence) and more French function words in lower case, but for the sentence's
    first (elisions counted), than
    English ones — in title case they make an address or a name, not a sentence ("Cite De
    L'Interieur 13"); and whether it is French beyond doubt (`SURELY_FRENCH`)."""
    if _FRENCH_SIGN.search(sentence) is None:
        return False, False
    words = _WORDS.findall(sentence)
    if len(words) < MIN_WORDS:
        return False, False
    words[0] = words[0].lower()  # the sentence's first word is capitalised anyway
    opening = _OPENING_ELISION.match(sentence) is not None
    french = len(_ELISION.findall(sentence)) + opening
    sure = len(_SURE_ELISION.findall(sentence)) + opening
    english = 0
    for word in words:
        french += word in FRENCH_WORDS
        sure += word in SURELY_FRENCH
        english += word.lower() in ENGLISH_WORDS
    return french > english, sure >= SURE and english == 0


class LanguageId:
    """The French sentences of texts; the identifier is built at the first sentence that
    shows a sign of French (English-only traffic never builds it)."""

    def __init__(self) -> None:
        self._detector: Any = None
        self._french: Any = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        """Whether a sentence has asked the identifier yet."""
        return self._detector is not None

    def french_ranges(self, text: str) -> Ranges:
        """Where `text` is French: runs of consecutive French sentences, as (start, end)."""
        signs = [m.start() for m in _FRENCH_SIGN.finditer(text)]
        if not signs:
            return []
        out: Ranges = []
        for start, end in signed_sentences(text, signs):
            sentence = text[start:end]
            leans, sure = leaning(sentence)
            if not leans or not (sure or self._is_french(sentence)):
                continue
            if out and not text[out[-1][1] : start].strip():
                out[-1] = (out[-1][0], end)  # the next sentence of the same French run
            else:
                out.append((start, end))
        return out

    def _is_french(self, sentence: str) -> bool:
        detector = self._built()
        # lingua takes UTF-8 only: a lone surrogate (passed through from the request) would
        # refuse the request; it counts as one unknown character instead.
        readable = sentence.encode("utf-8", "replace").decode("utf-8")
        return detector.detect_language_of(readable) == self._french

    def _built(self) -> Any:
        with self._lock:
            if self._detector is None:
                from lingua import Language, LanguageDetectorBuilder

                languages = [getattr(Language, name) for name in LANGUAGES]
                builder = LanguageDetectorBuilder.from_languages(*languages)
                self._detector = builder.with_low_accuracy_mode().build()
                self._french = Language.FRENCH
            return self._detector


FRENCH_PIPELINE = "fr_core_news_sm"


class FrenchNer:
    """French NER in this process: which sentences are French, and the French pipeline,
    loaded at the first French sentence this process reads itself."""

    def __init__(self, package: str, ids: LanguageId | None = None) -> None:
        self.package = package
        self.ids = ids if ids is not None else LanguageId()
        self._nlp: Any = None
        self._lock = threading.Lock()

    @classmethod
    def installed(cls) -> FrenchNer | None:
        """French NER when its pipeline is installed (nothing is ever downloaded)."""
        import spacy

        return cls(FRENCH_PIPELINE) if spacy.util.is_package(FRENCH_PIPELINE) else None

    @property
    def loaded(self) -> bool:
        return self._nlp is not None

    def ranges(self, text: str) -> Ranges:
        return self.ids.french_ranges(text)

    def nlp(self) -> Any:
        with self._lock:
            if self._nlp is None:
                import spacy

                nlp = spacy.load(self.package, exclude=NOT_FOR_FRENCH_NER)
                nlp.max_length = MAX_TEXT
                self._nlp = nlp
            return self._nlp


def within(ranges: Ranges, start: int, end: int) -> Ranges:
    """`ranges` cut to [start, end) and shifted to start there."""
    return [
        (max(s, start) - start, min(e, end) - start) for s, e in ranges if s < end and e > start
    ]
