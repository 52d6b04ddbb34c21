"""A number found in part is replaced whole: a phone or identifier span that stops inside
a run of digit groups ("65 929 970 489", "2 87 03 75 115 123 45") is widened to the run,
so no group of the value (a birth year, a check digit) stays in clear beside its
placeholder."""

from __future__ import annotations

import re

from cogate.policies.recognizers.europe.id_table import NATIONAL_IDS

# Types whose value is a run of digit groups.
GROUPED_TYPES = frozenset(
    {"PHONE_NUMBER", "US_SSN", "US_BANK_NUMBER", *(spec.entity for spec in NATIONAL_IDS)}
)
# One separator character between two groups of the same number.
_AFTER = re.compile(r"(?:[ .\-/]\d+)+")
_BEFORE = re.compile(r"(?:\d+[ .\-/])+$")
_LOOK_BACK = 40


def widened(text: str, start: int, end: int) -> tuple[int, int]:
    """`start, end` grown over the digit groups that touch the span's first or last digit."""
    if end < len(text) and text[end - 1].isdigit():
        after = _AFTER.match(text, end)
        if after is not None:
            end = after.end()
    if start > 0 and text[start].isdigit():
        before = _BEFORE.search(text[max(0, start - _LOOK_BACK) : start])
        if before is not None:
            start -= len(before.group())
    return start, end
