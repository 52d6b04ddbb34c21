"""A PERSON recognizer from name lists: the small spaCy model misses many plain names.

The lists are the US Census first and last names shipped by the `names` package (public
domain data, read from the installed package, nothing downloaded). A known first name
followed by capitalised surnames is a name; a known first name alone counts only when it
is not also an everyday English word ("Will", "May", "Grace").
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from presidio_analyzer import EntityRecognizer, RecognizerResult

_WORD = re.compile(r"\b[A-Z][^\W\d_]+(?:['\-][^\W\d_]+)?\b")
# First names that are everyday words, months, places or sentence openers.
_COMMON_WORDS = """
will may june april august mark bill grant faith hope joy grace rose lily ivy dawn summer
autumn sunny ray art rich rob sue pat don jack jan chase max page paris georgia virginia
carolina florida jordan china india asia an in is it as so my me we he she be do go no
or on at by to of the and but for not all can see sky star love major king queen prince
princess earl duke baron young long white black brown green gray grey early dear son sonny
day night morning christian christmas easter monday friday sunday rock stone river lake hill
dale glen wood forest field clay bay cliff gay guy dean miles frank noble royal sterling
price may-day mercy patience prudence charity honor honour justice liberty harmony melody
destiny trinity crystal amber ruby pearl jade coral jewel diamond ginger olive hazel violet
iris daisy holly heather willow autumn rain storm shadow angel god lord man men woman women
major general captain doctor nurse judge page sandy rusty dusty buck carol deb eve lane
"""
COMMON = frozenset(_COMMON_WORDS.split())


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names), upper-cased, from the installed `names` package."""
    try:
        package = resources.files("names")
    except ModuleNotFoundError:
        raise RuntimeError(
            "cogate's PERSON name lists come from the `names` package, which is not "
            "installed; install it (pip install names) or reinstall cogate"
        ) from None

    def read(name: str) -> frozenset[str]:
        text = package.joinpath(name).read_text(encoding="ascii", errors="ignore")
        return frozenset(line.split()[0] for line in text.splitlines() if line.strip())

    first = read("dist.female.first") | read("dist.male.first")
    return frozenset(n for n in first if len(n) > 1), read("dist.all.last")


class NameListRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="NameListRecognizer")

    def load(self) -> None:
        name_lists()

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        first, last = name_lists()
        words = list(_WORD.finditer(text))
        results = []
        i = 0
        while i < len(words):
            word = words[i]
            if not word.group()[1:].islower() or word.group().upper() not in first:
                i += 1
                continue
            end, j = word.end(), i + 1
            # Surnames: capitalised words right after, separated by one space.
            while j < len(words) and j - i <= 2 and text[end : words[j].start()] == " ":
                upper = words[j].group().upper()
                titled = words[j].group()[1:].islower()
                if not titled or (upper not in last and upper not in first):
                    break
                end = words[j].end()
                j += 1
            if j > i + 1:
                score = 0.75
            elif word.group().lower() in COMMON:
                i += 1
                continue
            else:
                score = 0.5
            results.append(
                RecognizerResult(
                    "PERSON",
                    word.start(),
                    end,
                    score,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
            i = j
        return results
