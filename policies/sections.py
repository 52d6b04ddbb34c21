"""Private-context sections of a text: marked spans and headed sections (policy.private_context).

The collaborative modes keep these on the device as a whole; entity redaction applies to
everything else. Offsets only: callers cut the text themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cogate.policies.schema import PrivateContext

_HEADING = re.compile(r"(?m)^(#{1,6})[ \t]*(.+?)[ \t]*:?[ \t]*#*[ \t]*$")


@dataclass(frozen=True)
class Section:
    start: int
    end: int
    kind: str  # "marker" | "heading"
    name: str  # the marker's opening string or the heading's title


def private_sections(text: str, context: PrivateContext) -> list[Section]:
    """Marked spans (markers included) and headed sections (heading line to the next
    heading of the same or a higher level), sorted and without overlaps."""
    found: list[Section] = []
    for opening, closing in context.markers:
        pos = 0
        while (start := text.find(opening, pos)) >= 0:
            end = text.find(closing, start + len(opening))
            end = len(text) if end < 0 else end + len(closing)  # unclosed: private to the end
            found.append(Section(start, end, "marker", opening))
            pos = end
    wanted = {h.strip().casefold() for h in context.headings}
    headings = list(_HEADING.finditer(text))
    for i, match in enumerate(headings):
        if match.group(2).strip().casefold() not in wanted:
            continue
        level = len(match.group(1))
        end = len(text)
        for later in headings[i + 1 :]:
            if len(later.group(1)) <= level:
                end = later.start()
                break
        found.append(Section(match.start(), end, "heading", match.group(2).strip()))
    found.sort(key=lambda s: (s.start, -s.end))
    merged: list[Section] = []
    for section in found:
        if merged and section.start < merged[-1].end:
            last = merged[-1]
            if section.end > last.end:
                merged[-1] = Section(last.start, section.end, last.kind, last.name)
            continue
        merged.append(section)
    return merged


def split_private(text: str, context: PrivateContext) -> tuple[str, list[str]]:
    """(the text without its private sections, each section's content, stripped: a marked
    span without its markers, a headed section with its heading line)."""
    closing = dict(context.markers)
    public, private, last = [], [], 0
    for section in private_sections(text, context):
        public.append(text[last : section.start])
        piece = text[section.start : section.end]
        if section.kind == "marker":
            piece = piece[len(section.name) :]
            end = closing.get(section.name, "")
            piece = piece[: -len(end)] if end and piece.endswith(end) else piece
        private.append(piece.strip())
        last = section.end
    public.append(text[last:])
    return "".join(public), private
