"""A lone first name where a person is addressed or talked about: `Ask Priya to call back.`,
`tell nguyen that the car is ready`, `cc Dmitri`.

A capitalised word after such a verb is a name unless it is a function word, a month or
day, or a word for a group ("Ask everyone to…", "tell Support that…"); a lower-case word
counts only when it is in the Census name lists.
"""

from __future__ import annotations

import regex
from cogate.policies.recognizers.names import (
    COMMON,
    MONTHS,
    NEVER_FIRST,
    is_uncased,
    name_lists,
)
from presidio_analyzer import EntityRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

_VERBS = (
    r"ask|tell|remind|email|e-mail|mail|call|ring|text|message|ping|thank|invite|inform|"
    r"notify|contact|phone|congratulate|cc|bcc|meet|pay|greet|warn|forward\s+(?:this|it)\s+to|"
    r"send\s+(?:this|it)\s+to|give\s+(?:this|it)\s+to|introduce\s+me\s+to|reply\s+to|"
    r"write\s+to|talk\s+to|speak\s+(?:to|with)|check\s+with|meet\s+with"
)
_AFTER = (
    r"(?=\s+(?:to|that|about|if|whether|when|we|i|the|at|on|for|and|in|tomorrow|today|"
    r"tonight|back|again|soon|asap|please|know|how|why|what|so|first)\b|\s*[,.!?;:)]|\s*$)"
)
_ADDRESSED = regex.compile(
    rf"(?<![\p{{L}}])(?i:{_VERBS})\s+(\p{{Lu}}\p{{Ll}}+|\p{{Ll}}{{2,}}){_AFTER}", regex.M
)
_DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_GROUPS_TEXT = (
    "everyone everybody someone somebody anyone anybody nobody support admin admins team "
    "sales legal it hr security management staff customers users people them all both mom "
    "mum dad mother father grandma grandpa boss manager doctor everyone back home again "
    "later now later me him her us"
)
_GROUPS = set(_GROUPS_TEXT.split())


class AddressedNameRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="AddressedNameRecognizer")

    def load(self) -> None:
        name_lists()

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        out = []
        uncased = is_uncased(text)
        for match in _ADDRESSED.finditer(text):
            word = match.group(1)
            lower = word.lower()
            if lower in STOP_WORDS or lower in NEVER_FIRST or lower in _GROUPS:
                continue
            if lower in MONTHS or lower in _DAYS:
                continue
            if word.islower():
                if not uncased:
                    continue  # who capitalises writes names capitalised ("a call means…")
                first, last = name_lists()
                if lower in COMMON or (word.upper() not in first and word.upper() not in last):
                    continue
            out.append(
                RecognizerResult(
                    "PERSON",
                    match.start(1),
                    match.end(1),
                    0.6,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,  # type: ignore[has-type]
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return out
