"""PERSON from the name lists: a known first name with the surnames after it, the other
members of a list of names, first and last names in text typed in lower case."""

from __future__ import annotations

import re

import regex
from cogate.policies.recognizers.names import (
    COMMON,
    LOWER_WORD,
    NEVER_FIRST,
    NOT_SURNAME,
    PARTICLE_SET,
    PLACE_PREFIXES,
    TITLE_WORD,
    TOOL_NAMES,
    country_names,
    in_address,
    is_capitalised,
    is_given,
    is_uncased,
    known_surname,
    name_lists,
    name_result,
    opens_sentence,
)
from cogate.policies.recognizers.not_names import ATTRIBUTIVE, not_a_person
from cogate.policies.recognizers.technical import folded
from cogate.policies.recognizers.world.names import fold, stop_words, world_names
from presidio_analyzer import EntityRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS


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
        world_names()
        country_names()

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        uncased = is_uncased(text)
        spans = self._names(text, uncased)
        results = [
            name_result("LOCATION" if place else "PERSON", s, e, score, self.name, self.id)  # type: ignore[has-type]
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
            results.append(name_result("PERSON", start, end, 0.6, self.name, self.id))  # type: ignore[has-type]
        return results

    def _names(self, text: str, uncased: bool) -> list[tuple[int, int, float, bool]]:
        """(start, end, score, part of a street or place name) of each name found."""
        first, last = name_lists()
        # Only capitalised words can be names in a cased text (and there are few of them).
        words = list((LOWER_WORD if uncased else TITLE_WORD).finditer(text))
        out = []
        i = 0
        while i < len(words):
            word = words[i].group()
            lower = word.lower()
            if uncased:
                candidate = word.upper() in first and lower not in COMMON
            else:
                # Accents folded as the Census lists spell names ("Lucía" → LUCIA).
                candidate = is_capitalised(word) and is_given(folded(word))
            if (
                not candidate
                or (lower in NEVER_FIRST and not _capitalised_stop_word(text, words, i))
                or text[words[i].end() : words[i].end() + 1].isdigit()
            ):
                i += 1  # "Ed25519": an identifier, not Ed
                continue
            # "Rue Victor Hugo", "San Luis": a street or a place named after someone.
            place = in_address(text, words[i].start())
            end, j, taken = _surnames(text, words, i, uncased, last)
            common = lower in COMMON and not _proper_tool_name(text, words[i].start(), lower)
            if _ORG_NEXT.match(text, end):
                i = j  # "Davis Ltd.", "Jackson Group": a company named after someone
                continue
            place = place or _STREET_NEXT.match(text, end) is not None
            if not uncased and folded(word) not in first and not _world_name(text, words, i, j):
                i += 1  # a given name of another country counts only with its surname
                continue
            if taken and (uncased or not common or _known_surname(words[i + 1].group(), last)):
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
    return lower in TOOL_NAMES and bool(ATTRIBUTIVE.search(text, max(0, start - 6), start))


def _world_name(text: str, words: list[regex.Match], i: int, j: int) -> bool:
    """A given name outside the Census list ("Daan", "Wojciech") with a known surname or a
    particle after it ("Daan de Vries"): either is rare among capitalised everyday words."""
    if j <= i + 1:
        return False
    if fold(words[i].group()).lower() in stop_words() and opens_sentence(text, words[i].start()):
        return False  # "Per Natale": a preposition opening a sentence, not Per the Swede
    if text[words[i].start() : words[j - 1].end()].lower() in country_names():
        return False  # "Costa Rica"
    if text[words[i].end() : words[i + 1].start()] != " ":
        return True  # "de", "van der" between them
    surname = words[i + 1].group()
    return (
        _NAME_CASED.match(surname) is not None
        and known_surname(surname)
        and fold(surname) not in world_names().surname_words
    )


# "Lundqvist", "O'Brien", "Müller-Lüdenscheidt", "McKenzie"; not "DoW" nor "API".
_NAME_CASED = regex.compile(r"(?:Mc|Mac|O['\u2019])?\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?$")


_ARTICLES = PARTICLE_SET | PLACE_PREFIXES | NEVER_FIRST - frozenset(STOP_WORDS)
_ARTICLES |= frozenset(("den", "der", "die", "das", "het", "des", "les", "los", "las", "il"))


def _capitalised_stop_word(text: str, words: list[regex.Match], i: int) -> bool:
    """A given name that is a function word ("Per") capitalised mid-sentence and followed
    by a known surname: "skrevs under av Per Sjöberg"; not an article or particle that
    opens a place's name ("Den Haag", "La Paz")."""
    lower = words[i].group().lower()
    if lower in _ARTICLES or lower not in stop_words() or opens_sentence(text, words[i].start()):
        return False
    nxt = words[i + 1] if i + 1 < len(words) else None
    return (
        nxt is not None and text[words[i].end() : nxt.start()] == " " and known_surname(nxt.group())
    )


def _known_surname(word: str, last: frozenset[str]) -> bool:
    return folded(word) in last and word.lower() not in COMMON


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
# A street named after someone: "Dózsa György út", "Hegedűs Gyula utca", "Anna Lindhs väg".
_STREET_NEXT = regex.compile(
    r"[ \t]+(?i:street|st|avenue|ave|road|rd|utca|út|útja|tér|körút|ulica|ul|gatan|gata|"
    r"vägen|väg|gade|vej|veien|vei|straße|strasse|str|weg|allee|laan|straat|plein)\b"
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


def _surnames(
    text: str, words: list[regex.Match], i: int, uncased: bool, last: frozenset[str]
) -> tuple[int, int, int]:
    """(end of the name, index of the next word, surnames taken) after the first name at
    `words[i]`: up to two surnames, with particles ("de", "van der") in a cased text."""
    end, j = words[i].end(), i + 1
    taken = 0
    while j < len(words) and taken < 2:
        gap = text[end : words[j].start()]
        nxt = words[j].group()
        if not uncased and gap != " " and gap.strip().lower() in PARTICLE_SET:
            # "Teresa de Vaan", "Paul van der Voet": the particle, then the surname.
            if gap != " " + gap.strip() + " " or nxt.lower() in NOT_SURNAME:
                break
        elif gap not in (" ", "_") or nxt.lower() in NOT_SURNAME or nxt.lower() in NEVER_FIRST:
            break  # "Margaret_Thornbury": an identifier joins first name and surname with `_`
        known = folded(nxt) in last and nxt.lower() not in COMMON
        if not (known if uncased else is_capitalised(nxt)):
            break
        end, j, taken = words[j].end(), j + 1, taken + 1
    return end, j, taken
