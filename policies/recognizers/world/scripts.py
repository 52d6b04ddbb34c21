"""PERSON names in Hebrew, Greek and Thai text, and given names of `names-dataset` in
Cyrillic (issue 26: names from every country).

Hebrew and Greek use the Israeli, Greek and Cypriot names of `world_names` as spelt:
Hebrew a given name (after the one-letter prefixes ו/ל/ב/מ/ש/ה/כ that join the next word)
followed by a known surname; Greek a given name in any case form (Γιώργος, Γιώργο, Γιώργου)
followed by a capitalised word, or two capitalised words the second of which ends like a
Greek surname (-όπουλος, -ίδης, -άκης, -ίου…). Thai has no case and no spaces between
words: a name follows a title (คุณ, นาย, นาง, นางสาว, ดร.) up to the next space, with the
surname after it. A lone given name never counts: many are also words (טל, אור, Παρασκευή).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import regex
from cogate.policies.recognizers.base import trie_regex
from cogate.policies.recognizers.names import in_address
from cogate.policies.recognizers.world.names import world_names

# -- Hebrew ------------------------------------------------------------------------------
_HE_WORD = regex.compile(r"(?<![\p{Hebrew}])[\p{Hebrew}\u05f3\u05f4'\"]{2,}")
_HE_PREFIXES = "ולבמשהכ"


@lru_cache(maxsize=1)
def _hebrew_names() -> tuple[frozenset[str], frozenset[str]]:
    names = world_names()
    hebrew = regex.compile(r"^\p{Hebrew}+$")
    given = frozenset(n for n in names.given_spelt if hebrew.match(n))
    return given, frozenset(n for n in names.surnames_spelt if hebrew.match(n))


def hebrew(text: str) -> Iterable[tuple[int, int, float]]:
    given, surnames = _hebrew_names()
    words = list(_HE_WORD.finditer(text))
    for word, nxt in zip(words, words[1:], strict=False):
        if text[word.end() : nxt.start()] != " " or nxt.group() not in surnames:
            continue
        start = _hebrew_given(word.group(), given)
        if start is not None:
            yield word.start() + start, nxt.end(), 0.7


def _hebrew_given(word: str, given: frozenset[str]) -> int | None:
    """Where the given name starts in `word`, after up to two prefix letters ("ולמשה")."""
    for cut in range(3):
        if cut and word[cut - 1] not in _HE_PREFIXES:
            return None
        if word[cut:] in given and len(word) - cut >= 2:
            return cut
    return None


# -- Greek -------------------------------------------------------------------------------
_EL_CAP = r"\p{Lu}[\p{Ll}\u0301\u0308]+"
_EL_SURNAME_END = (
    r"(?:όπουλος|οπούλου|όπουλο|όπουλου|ίδης|ίδη|ίδου|άκης|άκη|άκου|ιάδης|ιάδη|ίου|έας|"
    r"άτος|άτου|άτο|έλης|έλη|ούλης|ούλη|όγλου|άκος|άκο|ίνος|ίνου|ινού|ίδου)"
)
_EL_PAIR = regex.compile(
    rf"(?<![\p{{L}}])({_EL_CAP})\s+(\p{{Lu}}\p{{Ll}}+{_EL_SURNAME_END})(?![\p{{L}}])"
)


def _greek_forms(name: str) -> set[str]:
    """A Greek given name and its accusative, genitive and vocative forms."""
    forms = {name}
    for ending, others in (
        ("ος", ("ο", "ου", "ε")),
        ("ός", ("ό", "ού", "έ")),
        ("ης", ("η",)),
        ("ής", ("ή",)),
        ("ας", ("α",)),
        ("άς", ("ά",)),
        ("α", ("ας",)),
        ("η", ("ης",)),
        ("ή", ("ής",)),
    ):
        if name.endswith(ending):
            forms |= {name[: -len(ending)] + other for other in others}
            break
    return forms


@lru_cache(maxsize=1)
def _greek_given() -> regex.Pattern:
    greek = regex.compile(r"^\p{Greek}+$")
    names = {f for n in world_names().given_spelt if greek.match(n) for f in _greek_forms(n)}
    return regex.compile(
        rf"(?<![\p{{L}}])(?:{trie_regex(sorted(names), fold=False)})\s+{_EL_CAP}(?![\p{{L}}])"
    )


def greek(text: str) -> Iterable[tuple[int, int, float]]:
    for match in _greek_given().finditer(text):
        yield match.start(), match.end(), 0.7
    for match in _EL_PAIR.finditer(text):
        if not in_address(text, match.start()):  # "71 Λεωφ. Ηρώων Πολυτεχνείου": a street
            yield match.start(), match.end(), 0.6


# -- Thai --------------------------------------------------------------------------------
# A title, or the word that introduces a name ("ผมชื่อสมชาย", my name is Somchai; "ชื่อ-
# นามสกุล: …", name and surname).
_TH_TITLE = (
    r"(?:คุณ|นางสาว|นาย|นาง|ดร\.|ด\.ช\.|ด\.ญ\.|น\.ส\.|"
    r"ชื่อ(?:-นามสกุล|เล่น)?(?:ว่า|\s?:)?|นามสกุล(?:ว่า|\s?:)?)"
)
# Words that follow คุณ when it means "you" ("คุณสามารถ…", you can): no name then.
_TH_NOT_NAME_TEXT = (
    "สามารถ จะ ต้อง ได้ ควร เป็น มี ไม่ ก็ ช่วย อาจ คง เคย กำลัง อยาก ชอบ คิด รู้ ทำ ใช้ "
    "และ หรือ ที่ ว่า ค่ะ ครับ คะ ครู ภาพ ค่า คือ "
    # after ชื่อ: the name of a file, user, subject, company, product, project, variable
    "ไฟล์ ผู้ใช้ เรื่อง บริษัท สินค้า โครงการ ตัวแปร ฟังก์ชัน โดเมน เล่น"
)
_TH_NOT_NAME = tuple(_TH_NOT_NAME_TEXT.split())
_TH_PARTICLES = frozenset(["ค่ะ", "ครับ", "คะ", "นะ", "จ้ะ", "จ้า", "ค่า", "ครับผม"])
_TH_NAME = regex.compile(
    rf"{_TH_TITLE}\s?(\p{{Thai}}{{2,14}})(?:\s(\p{{Thai}}{{2,16}}))?(?![\p{{Thai}}])|"
    rf"{_TH_TITLE}\s?(\p{{Thai}}{{2,14}})(?=\s|$|[^\p{{Thai}}])"
)


def thai(text: str) -> Iterable[tuple[int, int, float]]:
    for match in _TH_NAME.finditer(text):
        group = 1 if match.group(1) else 3
        given = match.group(group)
        if any(given.startswith(word) for word in _TH_NOT_NAME):
            continue
        surname = match.group(2) if group == 1 else None
        # "มาลี ค่ะ": a polite particle after the given name is no surname
        end = match.end(2) if surname and surname not in _TH_PARTICLES else match.end(group)
        yield match.start(group), end, 0.7


# -- Cyrillic: the dataset's given names, for `scripts._cyrillic` ------------------------
@lru_cache(maxsize=1)
def cyrillic_given() -> frozenset[str]:
    """The dataset's given names in Cyrillic (Russia, Kazakhstan, Bulgaria…) as spelt."""
    cyrillic = regex.compile(r"^\p{Cyrillic}+$")
    return frozenset(n for n in world_names().given_spelt if cyrillic.match(n))
