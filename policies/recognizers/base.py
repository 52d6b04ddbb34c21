"""The shared parts of cogate's own recognizers: a rule-table regex recognizer, the
validation helpers (entropy, Luhn), the offline e-mail and quick phone recognizers, and the
trie that factors long word lists into one pattern.

Results carry offsets, type, score and recognizer name only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import regex
import tldextract
from cogate.policies.recognizers.names import is_uncased
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    NhsRecognizer,
    PhoneRecognizer,
)

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


AnyPattern: TypeAlias = re.Pattern[str] | regex.Pattern[str]


@dataclass(frozen=True)
class Rule:
    """One regex of a RegexRecognizer: the span is `group` of each match."""

    name: str
    regex: AnyPattern
    score: float
    group: int = 0
    validate: Callable[[str], bool] | None = None
    # Only for texts typed all in lower case, where capitals are no cue.
    uncased: bool = False
    # Lower-case words of which one must be in the text for the rule to run: a substring
    # test is far cheaper than a case-insensitive alternation tried at every position.
    cues: tuple[str, ...] = ()
    # A pattern the text must hold somewhere for the rule to run (a script's letters).
    needs: AnyPattern | None = None


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
        lower: str | None = None
        for rule in self.rules:
            if rule.uncased and not uncased:
                continue
            if rule.cues:
                lower = text.lower() if lower is None else lower
                if not any(cue in lower for cue in rule.cues):
                    continue
            if rule.needs is not None and rule.needs.search(text) is None:
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


def trie_regex(words: list[str], *, fold: bool = True) -> str:
    """One alternation factored by common prefixes: `re` tries a flat list of 200 names
    one by one at every position, a trie only where the first letters match. `fold`
    lower-cases the words (for a case-insensitive pattern)."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word.lower() if fold else word:
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


# "Name: Isabel Martinez" / "Location: Miami, Florida" lines of profiles and forms.
CAPITALISED = r"[A-Z][\w'\-]+(?:[ ,]+(?:[A-Z][\w'\-]+|de|da|van|von|del|la|le|di))*"
