"""IBANs whose written groups run into the word after them.

Presidio's IBAN pattern is read case-insensitively (as its registry configures it), so in
a log line `iban=ES56 4652 2308 7547 9102 5727 action=update` the groups take `acti` and
`on` as two more, the one match fails its checksum whatever the group it is cut at, and
the IBAN leaves (a 22-character German one happens to end where no word fits). Here a
match that Presidio's own cuts do not validate is cut back group by group to the longest
prefix python-stdnum accepts as an IBAN: its check digits and the registered length and
format of its country's account number (as Presidio checks them; a national bank check
digit, which stdnum also checks for a few countries, is left out like Presidio leaves it
out).
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
    """Presidio's IBAN recognizer in one pass of its pattern: for each match, Presidio's
    own cuts (its capture groups, longest first), then the cut back to a valid prefix."""

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        flags = regex_flags or self.global_regex_flags
        results = []
        for pattern in self.patterns:  # type: ignore[has-type]
            for match in regex.finditer(pattern.regex, text, flags=flags):
                found = self._stock_cut(text, match, pattern.score)
                if found is None:
                    end = longest_iban(text, match.start(), match.end())
                    found = None if end is None else (end, EntityRecognizer.MAX_SCORE)
                if found is not None:
                    results.append(self._result(match.start(), *found))
        return results

    def _stock_cut(self, text: str, match, score: float) -> tuple[int, float] | None:
        """Presidio's reading of this match: the longest capture group that passes its
        checksum and format (scored 1.0), or passes them only in upper case (the pattern's
        score); None when every group fails."""
        start = match.start()
        for group in reversed(range(1, len(match.groups()) + 1)):
            group_end = match.span(group)[1]
            end = group_end if group_end > 0 else match.end()
            if end <= start:
                continue
            valid = self.validate_result(text[start:end])
            if valid is None:
                return end, score
            if valid:
                return end, EntityRecognizer.MAX_SCORE
        return None

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.supported_entities[0],
            start=start,
            end=end,
            score=score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,  # type: ignore[has-type]
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
