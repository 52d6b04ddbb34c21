"""The one private-context guard of the collaboration modes (sketch and logits).

Whatever leaves in those modes (sketch's task, logits' task and answer prefixes) has been
entity-redacted by the policy; this guard then removes what the request's own private
sections say is private, whatever the policy's entity actions (organisations are `keep` in
the default policy, yet an employer named in the profile must not leave):

- every entity the engine finds in the private text, of any type, and the capitalised
  parts of names and places;
- quoted strings, short field values (`Location: Miami, Florida`), numbers;
- in profile-like text (paragraphs of short lines and `;` lists: a profile, a marked
  span; not the prose of a writing history), proper nouns outside Title Case lines (with
  their case), distinctive words (any case; rarer than `DISTINCTIVE` on wordfreq's Zipf
  scale: a medication, a brand), and each clause of three content words or more of a `;`
  list (`Privacy_info`) or a free line: a sentence that restates half of a clause's
  content words loses its rarest ones;
- `public` (logits): proper nouns and numbers of long prose too (the writing history),
  when the instruction does not use them.

Terms become numbered placeholders `[PRIVATE_n]`, restored in the cloud's answer before
the local model reads it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cogate.core.exchange import Exchange, Sanitizer
from cogate.policies.schema import policy_of
from wordfreq import zipf_frequency

from .words import content_words

# Zipf frequency below which a word is near-identifying (under one per million words:
# a medication, a rare hobby, a brand); topic words of ordinary tasks are far above it.
DISTINCTIVE = 3.0
# A capitalised word rarer than this is a name rather than a capitalised ordinary word
# ("Northwind", "Lisbon" but not "Social", "Art").
UNCOMMON = 4.0
_NAMES = frozenset({"PERSON", "LOCATION", "GPE"})
SHORT_VALUE = 160  # a longer field value that is no `;` list is prose (`Content: …`)

_QUOTED = re.compile(
    r"[\"“”«]([^\"“”«»\n]{2,120})[\"“”»]|(?<![A-Za-z])'([^'\n]{2,120})'(?![A-Za-z])"
)
_CAPITALIZED = re.compile(r"\b[A-Z][\w'’\-]*[a-z0-9][\w'’\-]*\b")
_NUMBER = re.compile(r"\b\d[\d.,:/\-]*\d\b")
_WORD = re.compile(r"[A-Za-z][a-z'’\-]{3,}")
_SENTENCE_START = re.compile(r"(^|[.!?:;]\s+|\n\s*|[-*•]\s+)$")
_FIELD = re.compile(r"^[ \t]*([\w ]{2,30}):[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_FIELD_VALUE = re.compile(r"^[A-Z][\w'’\-]*(?:,?[ \t]+[A-Z][\w'’\-]*){0,2}$")
_CLAUSE_SPLIT = re.compile(r"[;\n]+|(?<=[.!?])\s+")
# Words that say nothing about a person even when capitalised or in a profile line.
_COMMON = frozenset(
    """a an the i i'm i've i'd i'll my me we our us you your he she it they them their his her
    this that these those there here what when where who why how which while if as at by for
    from in into of on to with and but or so not no yes all any each every some many most more
    less one two three first second last new next today tomorrow yesterday dear hi hello thanks
    thank please best regards sincerely mr mrs ms dr monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october
    november december task content name age location occupation personal_traits writing_style
    privacy_info smart_device_usage ai_assistant_usage title user profile writing history ai
    english uses often usually""".split()  # noqa: SIM905
)


@dataclass
class PrivateGuard:
    """Terms of one request's private sections that must not appear in what leaves."""

    exact: list[str] = field(default_factory=list)  # proper names: matched with their case
    folded: list[str] = field(default_factory=list)  # anything else: matched in any case
    clauses: list[set[str]] = field(default_factory=list)  # content words of profile clauses
    placeholders: dict[str, str] = field(default_factory=dict)  # term -> [PRIVATE_n]

    def __post_init__(self) -> None:
        self._terms: dict[str, str] = {}  # matched text (casefolded unless exact) -> term
        parts = []
        for term in sorted({*self.exact, *self.folded}, key=len, reverse=True):
            escaped = re.escape(term)
            if term in self.folded:
                self._terms[term.casefold()] = term
                parts.append(rf"(?i:{escaped})")
            else:
                self._terms[term] = term
                parts.append(escaped)
        self._pattern = re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)") if parts else None

    def kept(self, private_text: str, sections: int) -> dict[str, int]:
        """What stays on the device, as counts for the ledger (never the terms)."""
        return {
            "sections": sections,
            "chars": len(private_text),
            "terms": len({*self.exact, *self.folded}),
            "clauses": len(self.clauses),
        }

    def _placeholder(self, term: str) -> str:
        return self.placeholders.setdefault(term, f"[PRIVATE_{len(self.placeholders) + 1}]")

    def _replace(self, match: re.Match[str]) -> str:
        text = match.group(0)
        term = self._terms.get(text) or self._terms.get(text.casefold()) or text
        return self._placeholder(term)

    def scrub(self, text: str) -> str:
        """`text` without the private terms, and no sentence restating a private clause."""
        if self._pattern is not None:
            text = self._pattern.sub(self._replace, text)
        return self._clauses(text) if self.clauses else text

    def found_in(self, text: str) -> bool:
        saved = dict(self.placeholders)
        try:
            return self.scrub(text) != text
        finally:
            self.placeholders = saved  # asking mints no placeholder

    def restore(self, text: str) -> str:
        for term, key in self.placeholders.items():
            text = text.replace(key, term)
        return text

    def _clauses(self, text: str) -> str:
        out = []
        for sentence in re.split(r"(?<=[.!?;\n])", text):
            words = content_words(sentence)
            for clause in self.clauses:
                shared = clause & words
                # Rarest first, until less than half of the clause is said.
                for word in sorted(shared, key=lambda w: zipf_frequency(w, "en")):
                    if len(shared) * 2 < len(clause):
                        break
                    sentence = self._drop_word(sentence, word)
                    shared = shared - {word}
                words = content_words(sentence)
            out.append(sentence)
        return "".join(out)

    def _drop_word(self, sentence: str, stem: str) -> str:
        pattern = re.compile(rf"(?<!\w){re.escape(stem)}(?:'s|s|es)?(?!\w)", re.IGNORECASE)
        return pattern.sub(lambda m: self._placeholder(m.group(0)), sentence)


async def guard_for(
    ex: Exchange, private_text: str, privacy: Sanitizer, public: str | None = None
) -> PrivateGuard:
    """The guard of an exchange's private text (entity detection off the event loop).

    Types the policy acts on count wherever they occur; types it keeps (organisations,
    groups) only in the profile-like text: an employer in the profile, not every word the
    small NER model tags in a writing history."""
    if not private_text.strip():
        return PrivateGuard()
    policy = policy_of(ex)
    profile = profile_text(private_text)

    def scan() -> list[tuple[str, str]]:
        found = [
            (kind, private_text[start:end])
            for kind, start, end in privacy.private_spans(ex, private_text)
            if policy.action_for(kind) != "keep"
        ]
        found += [
            (kind, profile[start:end])
            for kind, start, end in privacy.private_spans(ex, profile)
            if kind != "DATE_TIME" or any(c.isdigit() for c in profile[start:end])
        ]
        return found

    return build_guard(private_text, await asyncio.to_thread(scan), public)


def build_guard(
    private_text: str, entities: Iterable[tuple[str, str]], public: str | None = None
) -> PrivateGuard:
    exact: set[str] = set()
    folded: set[str] = set()
    for kind, value in entities:
        value = value.strip()
        if len(value) >= 3 and value.casefold() not in _COMMON:
            exact.add(value)
        # Any part of a person's or a place's name; of an organisation, only its rare parts
        # ("Northwind" of "Northwind Traders", not "Social" of "Social Media Group").
        parts = [p for p in re.split(r"[,\s]+", value) if _is_name_part(p)]
        exact.update(p for p in parts if kind in _NAMES or _rare(p, UNCOMMON))
    for match in _QUOTED.finditer(private_text):
        quoted = (match.group(1) or match.group(2) or "").strip()
        if len(quoted) >= 3:
            folded.add(quoted)
            words = re.findall(r"[A-Z][\w'’\-]{3,}", quoted)
            exact.update(w for w in words if _rare(w, UNCOMMON))
    short = profile_text(private_text)
    exact |= _proper_nouns(short)
    folded |= _profile_terms(short)
    if public is not None:
        used = public.casefold()
        for term in _proper_nouns(private_text) | set(_NUMBER.findall(private_text)):
            if not re.search(rf"(?<!\w){re.escape(term.casefold())}(?!\w)", used):
                exact.add(term)
    clauses = [words for words in map(content_words, _clause_texts(short)) if len(words) >= 3]
    return PrivateGuard(sorted(exact - folded), sorted(folded), clauses)


def profile_text(private_text: str) -> str:
    """The profile-like lines of a private text: facts about the user, not the prose of a
    writing history (a paragraph with a long field value that is no list, or a long line)."""
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", private_text):
        rows = paragraph.splitlines()
        if not any(_is_prose(row) for row in rows):
            lines.extend(rows)
    return "\n".join(lines)


def _is_prose(line: str) -> bool:
    field = _FIELD.match(line)
    value = field.group(2) if field else line
    return len(value) > SHORT_VALUE and not (field and _is_list(value))


def _is_list(value: str) -> bool:
    """A `;`-separated list of short items (`Privacy_info: …; …; …`)."""
    items = [item for item in value.split(";") if item.strip()]
    return len(items) >= 2 and max(len(item) for item in items) <= SHORT_VALUE


def _profile_terms(text: str) -> set[str]:
    """Field values, numbers and distinctive words of profile-like lines (any case)."""
    terms: set[str] = set()
    for match in _FIELD.finditer(text):
        value = match.group(2)
        # A name or a place ("Isabel Martinez", "Miami, Florida"), not a one-word trait.
        if _FIELD_VALUE.match(value) and (" " in value or "," in value):
            terms.add(value)
            terms.update(w.strip(",") for w in value.split() if len(w.strip(",")) >= 3)
    terms.update(_NUMBER.findall(text))
    for word in _WORD.findall(text):
        lowered = word.casefold()
        if lowered not in _COMMON and _rare(lowered, DISTINCTIVE):
            terms.add(word)
    return {t for t in terms if t.casefold() not in _COMMON}


def _proper_nouns(text: str) -> set[str]:
    """Capitalised words seen mid-sentence (a word only ever capitalised at a sentence start
    is probably an ordinary word), outside Title Case lines (headings, titles)."""
    mid: set[str] = set()
    text = "\n".join(line for line in text.splitlines() if not _title_case(line))
    for match in _CAPITALIZED.finditer(text):
        word = match.group(0)
        before = text[max(0, match.start() - 3) : match.start()]
        if (
            match.start() > 0
            and not _SENTENCE_START.search(before)
            and word.casefold() not in _COMMON
            and _rare(word, UNCOMMON)
        ):
            mid.add(word)
    return mid


def _clause_texts(text: str) -> list[str]:
    """Clauses of `;` lists (`Privacy_info`-like fields) and of free lines (a marked span),
    not of single facts such as `Occupation: Software developer`."""
    out: list[str] = []
    for line in text.splitlines():
        field = _FIELD.match(line)
        if field is None:
            out.extend(c.strip() for c in _CLAUSE_SPLIT.split(line) if c.strip())
        elif _is_list(field.group(2)):
            out.extend(c.strip() for c in field.group(2).split(";") if c.strip())
    return out


def _rare(word: str, below: float) -> bool:
    return zipf_frequency(word.casefold(), "en") < below


def _title_case(line: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w'’\-]*", line.partition(":")[2] or line)]
    long = [w for w in words if len(w) >= 4]
    return len(long) >= 2 and sum(w[0].isupper() for w in long) * 10 >= len(long) * 6


def _is_name_part(word: str) -> bool:
    return bool(re.match(r"^[A-Z][\w'\-]{2,}$", word)) and word.casefold() not in _COMMON
