"""IBANs whose written groups run into the word after them.

Presidio's IBAN pattern is read case-insensitively (as its registry configures it), so in
a log line `iban=ES56 4652 2308 7547 9102 5727 action=update` the groups take `acti` and
`on` as two more, the one match fails its checksum whatever the group it is cut at, and
the IBAN leaves (a 22-character German one happens to end where no word fits). Here a
match that yields nothing is cut back group by group to the longest prefix python-stdnum
accepts as an IBAN: its check digits and the registered length and format of its
country's account number (as Presidio checks them; a national bank check digit, which
stdnum also checks for a few countries, is left out like Presidio leaves it out).
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import IbanRecognizer
from stdnum import iban as stdiban

_GROUP_END = regex.compile(r"(?<=[A-Za-z0-9])(?=[ \-])")


def longest_iban(text: str, start: int, end: int) -> int | None:
    """End of the longest prefix of text[start:end], cut at a group separator, that is a
    valid IBAN; None when no prefix of at least two groups is."""
    cuts = [m.start() for m in _GROUP_END.finditer(text, start, end)]
    for cut in reversed(cuts):
        if stdiban.is_valid(text[start:cut], check_country=False):
            return cut
    return None


class GroupedIbanRecognizer(IbanRecognizer):
    """Presidio's IBAN recognizer, and a spaced IBAN followed by a word found too."""

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        found = [(r.start, r.end) for r in results]
        flags = regex_flags or self.global_regex_flags
        for pattern in self.patterns:  # type: ignore[has-type]
            for match in regex.finditer(pattern.regex, text, flags=flags):
                start, end = match.span()
                if any(s < end and start < e for s, e in found):
                    continue
                cut = longest_iban(text, start, end)
                if cut is not None:
                    results.append(self._result(start, cut))
        return results

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.supported_entities[0],
            start=start,
            end=end,
            score=EntityRecognizer.MAX_SCORE,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,  # type: ignore[has-type]
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
