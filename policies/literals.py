"""Placeholder-shaped text in the app's own request: found and escaped before it leaves.

A user may type `[PERSON_1]` (a template, a quoted log, a probe). Sent as is, the model's
echo of it would be restored to the conversation's real PERSON_1. So any text the
restorer would read as a placeholder of a label this gateway can mint is itself treated
as a value: it is pseudonymized under the `LITERAL` label (`[LITERAL_1]`), and the answer
gets the user's literal text back. Labels cogate never mints (`UTF_8`, `<h1>`) are left
alone: the restorer ignores them too.
"""

from __future__ import annotations

from cogate.policies.detect.engine import Span
from cogate.policies.restore import PLACEHOLDER, placeholder_label

LITERAL = "PLACEHOLDER_TEXT"
RECOGNIZER = "PlaceholderLiteral"


def literal_spans(text: str, labels: set[str]) -> list[Span]:
    """Spans of `text` the restorer would read as a placeholder of one of `labels`."""
    if not text:
        return []
    spans = []
    for match in PLACEHOLDER.finditer(text):
        if placeholder_label(match) in labels:
            spans.append(Span(LITERAL, match.start(), match.end(), 1.0, RECOGNIZER))
    return spans
