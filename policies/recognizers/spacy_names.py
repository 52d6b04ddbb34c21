"""spaCy's entities cleaned: the small model misses many plain names, types lone foreign
names as places or organisations, and takes street names for people."""

from __future__ import annotations

import regex
from cogate.policies.recognizers.names import (
    COMMON,
    NOT_SURNAME,
    PARTICLE_SET,
    in_address,
    is_given,
    is_uncased,
    known_given,
    known_surname,
    name_lists,
    opens_sentence,
)
from cogate.policies.recognizers.not_names import (
    ACRONYM,
    ID_CUES,
    LEADING,
    LONE_VERB,
    QUOTE_TAIL,
    TRAILING,
    attribute_of,
    not_a_person,
    not_a_place,
    other_script_guess,
    other_script_street,
    place_context,
)
from cogate.policies.recognizers.technical import (
    FOREIGN_WORDS,
    english_sentence,
    folded,
    foreign_sentence,
    sentence_without_english,
)
from cogate.policies.recognizers.world.names import fold
from presidio_analyzer import RecognizerResult
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

# The recognition metadata key naming the pipeline's language when it is not English.
NER_LANGUAGE = "ner_language"


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
        french = getattr(nlp_artifacts, "french", None) or []
        for result in super().analyze(text, entities, nlp_artifacts):
            if any(start <= result.start < end for start, end in french) and not lone_opening(
                text, result.start, result.end
            ):
                # Found by the French pipeline in a French sentence: trusted as the English
                # one is in English (`technical.foreign_sentence` does not hold it back).
                result.recognition_metadata[NER_LANGUAGE] = "fr"
            kept = clean_entity(text, result, entities)
            if kept is not None:
                out.append(kept)
        return out


def lone_opening(text: str, start: int, end: int) -> bool:
    """One word opening a sentence or a value ("Écris une courte introduction…"): the
    French model takes many a capitalised verb there for a place, so such a span keeps
    the support a foreign sentence asks of the English model's."""
    if len(_CAPITALISED.findall(text, start, end)) != 1 or " " in text[start:end].strip():
        return False
    before = text[max(0, start - 8) : start].rstrip(" \t\"'«#*>-")
    return not before or before[-1] in ".!?:;\n{[("


def without_cue_words(text: str, result: RecognizerResult) -> bool:
    """Cut an instruction verb off the front of a PERSON span ("Email Tom Baker": the verb
    stays for the model); False when the span is a cue word ("Meine Steuer-ID", "Mi DNI",
    "Steuerliche Identifikationsnummer") rather than a person."""
    lead = LEADING.match(text, result.start, result.end)
    if lead is None:  # the span is one verb alone, which ends before its space
        lead = LONE_VERB.match(text, result.start, min(len(text), result.end + 1))
    if lead is not None:
        if lead.end() >= result.end:
            return False
        result.start = lead.end()
    words = text[result.start : result.end].lower().replace(":", " ").split()
    return not any(w in ID_CUES or w.endswith(_NUMBER_WORDS) for w in words)


_NUMBER_WORDS = ("nummer", "number", "numéro", "numero", "nummer:")


def not_a_word_of_a_name(text: str, result: RecognizerResult) -> bool:
    """A symbol ("¦"); a span in lower case in a cased text ("trzy błędy", "el resumen":
    who capitalises, capitalises names), whose lower-case words before a capitalised one
    are cut ("ex-Zombie Ookubo" keeps "Ookubo"); a function word of another language alone
    ("Vi", "Les", "Il")."""
    value = text[result.start : result.end]
    if not any(c.isalnum() for c in value):
        return True
    first = value.split(None, 1)[0]
    if (
        value[0].islower()
        and first not in PARTICLE_SET
        and _cased_around(text, result)
        and not _lower_case_name(text, result, first)
    ):
        words = list(_CAPITALISED.finditer(text, result.start, result.end))
        if not words:
            return True
        result.start = words[0].start()
    _cut_leading_phrase(text, result)
    _cut_lower_tail(text, result)
    _cut_sentence_opener(text, result)
    return text[result.start : result.end].strip().lower() in FOREIGN_WORDS


def _lower_case_name(text: str, result: RecognizerResult, first: str) -> bool:
    """A span typed in lower case that is still a name or place: on an address line, or in
    an English sentence a known given name or a name after a speech verb ("said william to
    christina", "user: dana mitchell", "says manna"), as chat text is often typed; in
    another language's sentence it is far more often a phrase ("trzy błędy", "el resumen")."""
    if in_address(text, result.start) or _AFTER_STREET.search(
        text, max(0, result.start - 60), result.start
    ):
        return True  # "apt. 789, valverde de valdelacasa": a place typed in lower case
    word = first.strip(".,;:!?\"'()")
    known = folded(word) in name_lists()[0] and word.lower() not in COMMON
    said = _SAID_BY.search(text, max(0, result.start - 16), result.start) is not None
    return (known or said) and english_sentence(text, result.start, result.end)


# A street or unit with its number, then a comma: what follows is the town.
_AFTER_STREET = regex.compile(
    r"(?i:(?<!\w)(?:apt|suite|unit|flat|rue|rua|calle|via|street|st|road|rd|avenue|ave|"
    r"lane|ln|drive|ul|str)\.?[ \t][^\n,]{0,30}?\d+[a-z]?,[ \t]*)$"
)
# A speech verb or a naming word right before a span: `says manna`, `named iris`.
_SAID_BY = regex.compile(
    r"(?i:(?<!\w)(?:says|said|asks|asked|tells|told|replied|wrote|named|called|by|with))"
    r"[ \t]+$"
)


def lower_case_foreign_place(text: str, result: RecognizerResult) -> bool:
    """A NER place typed all in lower case in a cased sentence of another language (the
    adjective "nova" of "A nova versão corrige três erros."): its writer would capitalise
    a place's name. Not on an address line, where a street may be typed in lower case."""
    if any(c.isupper() for c in text[result.start : result.end]):
        return False
    if not _cased_around(text, result) or in_address(text, result.start):
        return False
    return foreign_sentence(text, result.start, result.end) or sentence_without_english(
        text, result.start, result.end
    )


def _no_place(text: str, result: RecognizerResult, value: str) -> bool:
    return lower_case_foreign_place(text, result) or not_a_place(text, result.start, value)


def _cut_sentence_opener(text: str, result: RecognizerResult) -> None:
    """Cut the capitalised verb that opens a sentence off a name after it ("Sätt Oskar
    Lundqvist som kopia": the model took the imperative for a first name)."""
    words = list(_WORD.finditer(text, result.start, result.end))
    if len(words) < 3 or not opens_sentence(text, result.start):
        return
    if not _PROSE_SPAN.match(text[result.start : result.end]):
        return
    lead, given = words[0].group(), words[1].group()
    if not (lead[0].isupper() and given[0].isupper()):
        return  # "what's your name? mark pinto": typed in lower case, names and all
    if known_given(given) and not is_given(fold(lead)) and not known_surname(lead):
        result.start = words[1].start()


def _cut_leading_phrase(text: str, result: RecognizerResult) -> None:
    """Cut the words before a lower-case word inside a name when none of them is a known
    name ("Rechnung an Brian Rosemann": the model ran a German noun and a preposition into
    the name); "Anna and Tom" stays whole."""
    if not _PROSE_SPAN.match(text[result.start : result.end]):
        return
    words = list(_WORD.finditer(text, result.start, result.end))
    for k in range(1, len(words) - 1):
        word = words[k].group()
        if not word[0].islower() or word in PARTICLE_SET:
            continue
        before = [w.group() for w in words[:k]]
        if (
            not any(known_given(w) or known_surname(w) for w in before)
            and words[k + 1].group()[0].isupper()
        ):
            result.start = words[k + 1].start()
        return


def _cut_lower_tail(text: str, result: RecognizerResult) -> None:
    """Cut lower-case words off the end of a name ("Javier García mañana": the model ran
    on into the next word of a sentence in another language); particles stay inside."""
    if not _PROSE_SPAN.match(text[result.start : result.end]):
        return  # "Callable[[dict[str": code, which the later rules judge whole
    words = list(_WORD.finditer(text, result.start, result.end))
    k = len(words)
    while k > 1 and words[k - 1].group()[0].islower():
        if fold(words[k - 1].group()) in name_lists()[0]:
            return  # "Altoona michael": a name typed in lower case stays
        k -= 1
    while k > 1 and words[k - 1].group() in PARTICLE_SET:
        k -= 1  # "Anna van": the particle belonged to the cut words
    if 0 < k < len(words) and words[k - 1].group()[0].isupper():
        result.end = words[k - 1].end()


def _cased_around(text: str, result: RecognizerResult) -> bool:
    """Capitals in the span's sentence outside it: its writer capitalises (a text joined
    from several messages may mix cased and lower-case ones)."""
    lo = max(0, result.start - 120)
    hi = min(len(text), result.end + 120)
    starts = [m.end() for m in _SENTENCE_END.finditer(text, lo, result.start)]
    end = _SENTENCE_END.search(text, result.end, hi)
    around = text[starts[-1] if starts else lo : result.start]
    around += " " + text[result.end : end.start() if end else hi]
    return not is_uncased(around)


_SENTENCE_END = regex.compile(r"[.!?\n]")
_WORD = regex.compile(r"\p{L}[\p{L}'\u2019\-]*")
_PROSE_SPAN = regex.compile(r"^[\p{L}\p{M}'\u2019\-. ]+$")
_CAPITALISED = regex.compile(r"(?<![\p{L}\-'])\p{Lu}\p{L}*")


def clean_entity(text: str, result: RecognizerResult, entities) -> RecognizerResult | None:
    """One spaCy entity kept, retyped or cut; None when it is no name and no place."""
    tail = QUOTE_TAIL.search(text, result.start, result.end)
    if tail is not None and tail.start() > result.start:
        result.end = tail.start()  # "Katherine Acevedo\n>": the name, not the quote marker
    value = text[result.start : result.end]
    if other_script_guess(value):
        if other_script_street(text, result.start, result.end):
            return _retyped(result, "LOCATION", entities)
        return None  # the English model guessing at another script ("Напиши")
    if result.entity_type == "PERSON" and not_a_word_of_a_name(text, result):
        return None
    value = text[result.start : result.end]
    if result.entity_type == "LOCATION":
        return None if _no_place(text, result, value) else result
    if result.entity_type != "PERSON":
        return result
    if not without_cue_words(text, result):
        return None
    if not_a_person(text, result.start, result.end):
        if ACRONYM.match(value.strip()) and place_context(text, result.start):
            return _retyped(result, "LOCATION", entities)  # "home city DOLE"
        # "the Valencia trip", "the Acme office" a place; code and tool words nothing.
        kind = attribute_of(text, result.start, result.end)
        return _retyped(result, kind, entities) if kind else None
    first = value.split(None, 1)[0].lower().rstrip(".")
    if any(c.isdigit() for c in value) or first in NOT_SURNAME or in_address(text, result.start):
        return _retyped(result, "LOCATION", entities)
    trailing = TRAILING.search(text, result.start, result.end)
    if trailing is not None and trailing.start() > result.start:
        result.end = trailing.start()
    return result
