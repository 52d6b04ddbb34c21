"""What the cloud may see in logits mode, and a second line of defence for it.

The local model writes from the private context and may copy from it; the privacy engine
sanitizes every payload, and this guard then removes what the engine's entity detectors
cannot know is private: quoted strings, proper nouns and numbers that occur in this
request's private sections but not in the (already sanitized) instruction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REDACTED = "[private]"

_QUOTED = re.compile(r"[\"“”«]([^\"“”«»\n]{2,80})[\"“”»]|(?<![A-Za-z])'([^'\n]{2,80})'(?![A-Za-z])")
_CAPITALIZED = re.compile(r"\b[A-Z][\w'’\-]*[a-z0-9][\w'’\-]*\b")
_NUMBER = re.compile(r"\b\d[\d.,:/\-]*\d\b|\b\d\b")
_SENTENCE_START = re.compile(r"(^|[.!?:;]\s+|\n\s*|[-*•]\s+)$")
# "Name: Isabel Martinez", "Location: Miami, Florida": a short, capitalized field value.
_FIELD_VALUE = re.compile(
    r"^[ \t]*[\w ]{2,30}:[ \t]*([A-Z][\w'’\-]*(?:,?[ \t]+[A-Z][\w'’\-]*){0,2})[ \t]*$", re.MULTILINE
)
# Capitalized words too common to be private when the answer uses them.
_COMMON = frozenset(
    """a an the i i'm i've i'd i'll my me we our us you your he she it they them their his her
    this that these those there here what when where who why how which while if as at by for
    from in into of on to with and but or so not no yes all any each every some many most more
    less one two three first second last new next today tomorrow yesterday dear hi hello thanks
    thank please best regards sincerely mr mrs ms dr monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october
    november december task content name age location occupation personal_traits writing_style
    privacy_info smart_device_usage ai_assistant_usage title user profile writing history ai
    english""".split()  # noqa: SIM905
)


@dataclass
class PrivateTerms:
    """Terms from the private sections that must not appear in an outbound prefix."""

    phrases: list[str] = field(default_factory=list)  # longest first
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def scrub(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def found_in(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None


def private_terms(private_text: str, public_text: str) -> PrivateTerms:
    """Quoted strings, proper nouns and numbers of `private_text` absent from `public_text`."""
    public = public_text.casefold()
    terms: set[str] = set()
    for match in _QUOTED.finditer(private_text):
        quoted = (match.group(1) or match.group(2) or "").strip()
        if len(quoted) >= 3:
            terms.add(quoted)
            terms.update(w for w in re.findall(r"[A-Za-z][\w'’\-]{3,}", quoted) if w[0].isupper())
    for match in _FIELD_VALUE.finditer(private_text):
        value = match.group(1)
        terms.add(value)
        terms.update(w.strip(",") for w in value.split() if len(w.strip(",")) >= 3)
    for match in _CAPITALIZED.finditer(private_text):
        word = match.group(0)
        if word.casefold() in _COMMON:
            continue
        if _SENTENCE_START.search(private_text[max(0, match.start() - 3) : match.start()]) and (
            not _occurs_mid_sentence(private_text, word)
        ):
            continue  # only ever seen at a sentence start: probably an ordinary word
        terms.add(word)
    for match in _NUMBER.finditer(private_text):
        if len(match.group(0)) >= 2:
            terms.add(match.group(0))
    kept = sorted(
        (t for t in terms if not re.search(rf"(?<!\w){re.escape(t.casefold())}(?!\w)", public)),
        key=len,
        reverse=True,
    )
    if not kept:
        return PrivateTerms()
    pattern = re.compile(
        "|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in kept), flags=re.IGNORECASE
    )
    return PrivateTerms(kept, pattern)


def _occurs_mid_sentence(text: str, word: str) -> bool:
    for match in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", text):
        before = text[max(0, match.start() - 3) : match.start()]
        if not _SENTENCE_START.search(before) and match.start() > 0:
            return True
    return False
