"""Unicode normalisation before detection, with offsets mapped back to the original text.

Full-width digits, ligatures and zero-width or tag characters are common ways (deliberate or
not) to slip an email or a number past a regex. Detection runs on the NFKC form with such
invisible characters removed; every span found there is mapped back to the original.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters that render as nothing: zero-width spaces/joiners, word joiner, BOM, soft
# hyphen, bidi controls, variation selectors and the Unicode tag block.
_INVISIBLE = {
    0x00AD,
    0x180E,
    0x200B,
    0x200C,
    0x200D,
    0x200E,
    0x200F,
    0x2060,
    0x2061,
    0x2062,
    0x2063,
    0x2064,
    0xFEFF,
}
_INVISIBLE.update(range(0x202A, 0x202F))
_INVISIBLE.update(range(0x2066, 0x206A))
_INVISIBLE.update(range(0xFE00, 0xFE10))


def is_invisible(char: str) -> bool:
    code = ord(char)
    return code in _INVISIBLE or 0xE0000 <= code <= 0xE007F or 0xE0100 <= code <= 0xE01EF


@dataclass(frozen=True)
class Normalized:
    """A normalised text and, when it differs from the original, where each char came from."""

    text: str
    origin: tuple[int, ...] | None = None  # origin[i]: index in the original of text[i]
    original_length: int = 0

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back to the original.

        Invisible characters inside the span are covered by it, since they sit between
        the originals of its first and last characters.
        """
        if self.origin is None:
            return start, end
        if start >= len(self.origin):
            return self.original_length, self.original_length
        first = self.origin[start]
        last = self.origin[end - 1] + 1 if end > start else first
        return first, last


_INVISIBLE_RE = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted(_INVISIBLE)) + "\U000e0000-\U000e007f"
    "\U000e0100-\U000e01ef]"
)


# Unicode dashes and minus signs (NFKC keeps U+2010..U+2015 and U+2212) become `-`, one
# character for one, so `4111–1111–1111–1111` meets the card and SSN rules.
# A lone surrogate (what JSON's "\udc80" decodes to) becomes U+FFFD: spaCy cannot encode it,
# and the whole request was refused.
_DASHES = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63", "-")
    | dict.fromkeys(range(0xD800, 0xE000), "\ufffd")
)


def normalize(text: str) -> Normalized:
    if text.isascii():
        return Normalized(text, None, len(text))
    if unicodedata.is_normalized("NFKC", text) and not _INVISIBLE_RE.search(text):
        # Only one-for-one replacements: offsets are the same.
        return Normalized(text.translate(_DASHES), None, len(text))
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if is_invisible(char):
            continue
        mapped = unicodedata.normalize("NFKC", char) if ord(char) > 0x7F else char
        for piece in mapped:
            out.append(piece)
            origin.append(index)
    return Normalized("".join(out).translate(_DASHES), tuple(origin), len(text))
