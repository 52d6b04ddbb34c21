"""European national identifiers: the table of their entity types (one place the policy,
the presets and the benches read), Presidio's own country recognizers where it has them,
and cogate's rules for the rest, every candidate checked by python-stdnum.

A digit-only identifier is taken only after one of its keywords (in any of the listed
languages) shortly before it: one in ten or eleven random numbers passes such a checksum.
A shape no ordinary number has (a codice fiscale, a NIR, an AHV number) stands alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from cogate.policies.recognizers.europe.id_table import NATIONAL_IDS, IdType
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer import predefined_recognizers as presidio

# How far before a value its keyword may stand ("Steuerliche Identifikationsnummer (IdNr.): ").
KEYWORD_WINDOW = 60
KEYWORD_SCORE = 0.9
ALONE_SCORE = 0.6
TYPO_SCORE = 0.5


def _validator(spec: IdType) -> Callable[[str], bool]:
    if not spec.stdnum:
        # python-stdnum has no ID-card module: Presidio's ICAO check for the 9-character
        # serial; the 10-character form (serial and its check digit) by shape and keyword.
        icao = presidio.DeIdCardRecognizer(supported_language="en")
        return lambda value: len(value) == 10 or icao.validate_result(value) is not False
    module = import_module(f"stdnum.{spec.stdnum}")
    return lambda value: bool(module.is_valid(value))


# Field names of tool output, code and logs that hold an identifier of any of these types
# (each value still has to pass its own type's checksum).
GENERIC_KEYWORDS = (
    "tax_id",
    "taxid",
    "tax id",
    "tax number",
    "tax_number",
    "national_id",
    "national id",
    "id_number",
    "id number",
    "personal_id",
    "vat_id",
    "vat number",
    "vat_number",
)


def _keyword_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    # A long keyword may start a compound ("Personalausweisnummer"); a short one ("nie",
    # "cf", "nip") must be a word of its own.
    alts = []
    for word in sorted(words, key=len, reverse=True):
        tail = r"[\w\-]*" if len(word) >= 6 else r"(?![^\W\d_])"
        alts.append(re.escape(word) + tail)
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(alts) + ")", re.IGNORECASE)


@dataclass(frozen=True)
class _Rule:
    spec: IdType
    value: re.Pattern[str]
    keyword: re.Pattern[str]
    valid: Callable[[str], bool]
    cues: tuple[str, ...]


def _rules() -> list[_Rule]:
    rules = []
    for spec in NATIONAL_IDS:
        # Whole digit groups only: never the first part of "65 929 970 489" or its tail.
        value = re.compile(rf"(?<![\w.\-/])(?<!\d )(?:{spec.pattern})(?![\w]|[ .\-/]\d)")
        keywords = spec.keywords + GENERIC_KEYWORDS
        rules.append(_Rule(spec, value, _keyword_regex(keywords), _validator(spec), cues(keywords)))
    return rules


def cues(keywords: tuple[str, ...]) -> tuple[str, ...]:
    """The keywords in lower case: a text holding none of them can hold no keyword match
    (a substring test per keyword costs far less than the case-insensitive alternation,
    and "id" in any English text made a cue of the first four letters worthless)."""
    return tuple(sorted({word.lower() for word in keywords}))


def has_keyword(rule_keyword: re.Pattern[str], text: str, start: int) -> bool:
    """A keyword of the type shortly before `start`, on the same line or the one above."""
    window = text[max(0, start - KEYWORD_WINDOW) : start]
    return rule_keyword.search(window) is not None


class NationalIdRecognizer(EntityRecognizer):
    """cogate's rules for the identifiers of `NATIONAL_IDS`, validated by python-stdnum."""

    def __init__(self) -> None:
        self.rules = _rules()
        # Every rule's keywords, each tested once per text (the generic ones are shared).
        self.cues = tuple(sorted({cue for rule in self.rules for cue in rule.cues}))
        super().__init__(
            supported_entities=sorted({spec.entity for spec in NATIONAL_IDS}),
            name="NationalIdRecognizer",
        )

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        lower = text.lower()
        present = {cue for cue in self.cues if cue in lower}
        out = []
        for rule in self.rules:
            if rule.spec.entity not in entities:
                continue
            cued = not present.isdisjoint(rule.cues)
            if not (cued or rule.spec.alone):
                continue
            for match in rule.value.finditer(text):
                keyword = cued and has_keyword(rule.keyword, text, match.start())
                valid = rule.valid(match.group())
                if keyword:
                    # After its keyword a value of the type's shape is the identifier even
                    # with a typo in its check digits: the user meant to send one.
                    score = KEYWORD_SCORE if valid else TYPO_SCORE
                elif rule.spec.alone and valid:
                    score = ALONE_SCORE
                else:
                    continue
                out.append(_result(rule.spec.entity, match.start(), match.end(), score, self))
        return out


def _result(entity: str, start: int, end: int, score: float, by: EntityRecognizer):
    return RecognizerResult(
        entity,
        start,
        end,
        score,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: by.name,  # type: ignore[has-type]
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: by.id,
            # The keyword has decided the score: Presidio's context words add nothing.
            RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
        },
    )


class KeywordGatedRecognizer(EntityRecognizer):
    """One of Presidio's country recognizers, run for the English pipeline, kept only where
    its type's keyword stands before the value (Presidio scores a bare checksum-valid
    number 1.0, and a phone number or an order id passes one in ten such checksums)."""

    def __init__(self, inner: EntityRecognizer, spec: IdType) -> None:
        self.inner = inner
        self.spec = spec
        self.keyword = _keyword_regex(spec.keywords + GENERIC_KEYWORDS)
        self.cues = cues(spec.keywords + GENERIC_KEYWORDS)
        super().__init__(supported_entities=[spec.entity], name=type(inner).__name__)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        if not self.spec.alone:
            lower = text.lower()
            if not any(cue in lower for cue in self.cues):
                return []  # no keyword anywhere: nothing it finds could be kept
        found = self.inner.analyze(text, entities, nlp_artifacts)
        out = []
        for result in found or []:
            if has_keyword(self.keyword, text, result.start):
                score = max(result.score, KEYWORD_SCORE)
            elif self.spec.alone:
                score = min(result.score, ALONE_SCORE)
            else:
                continue
            out.append(_result(result.entity_type, result.start, result.end, score, self))
        return out


def presidio_national_recognizers() -> list[EntityRecognizer]:
    """Presidio's recognizers for the types of the table that it has, for English texts."""
    out: list[EntityRecognizer] = []
    for spec in NATIONAL_IDS:
        if spec.presidio:
            inner = getattr(presidio, spec.presidio)(supported_language="en")
            out.append(KeywordGatedRecognizer(inner, spec))
    return out


def national_id_recognizers() -> list[EntityRecognizer]:
    return [NationalIdRecognizer(), *presidio_national_recognizers()]


def national_id_types() -> dict[str, IdType]:
    """Entity type → its row of the table (for policy checks and presets)."""
    return {spec.entity: spec for spec in NATIONAL_IDS}
