"""Which lines of a long text statistical NER must read, and a same-length view of only those.

spaCy NER is most of detection's cost on agent tool outputs (code, logs), and a name can
only be found by it where it could appear: prose, comments, string literals, log messages
with a capitalised word. A line is left out of NER only when it cannot hold what NER finds:
no quote, no comment marker, no capitalised word other than a code constant, no non-ASCII
letter, and code punctuation (so lower-case prose stays in). Pattern recognizers still read
every character; this view only feeds NER. Left-out lines become spaces (newlines kept), so
entity offsets in the view are offsets in the text.
"""

from __future__ import annotations

import re

# Below this size the whole text goes to NER: little to save, and chat prose keeps exactly
# the analysis it always had.
MIN_SEGMENTED = 2048

_QUOTE_OR_COMMENT = re.compile(r"""['"`]|#|//|/\*|\*/|<!--|(?:^|\s)--(?:\s|$)|^\s*\*""")
# A capitalised word (Maria, McDonald, ValueError) or a letter outside ASCII (Zoë, 王).
_CAPITALISED = re.compile(r"(?<![A-Za-z0-9_])[A-Z][a-z]|[^\x00-\x7f]")
_CODE_CONSTANTS = re.compile(r"(?<![A-Za-z0-9_])(?:None|True|False|Self)(?![A-Za-z0-9_])")
_CODE_PUNCTUATION = re.compile(r"[=(){}\[\];<>|]")


def needs_ner(line: str) -> bool:
    """Whether statistical NER must read this line (see the module docstring)."""
    if not line.strip():
        return False
    if _QUOTE_OR_COMMENT.search(line):
        return True
    if _CAPITALISED.search(_CODE_CONSTANTS.sub("", line)):
        return True
    return _CODE_PUNCTUATION.search(line) is None


def ner_view(text: str) -> str | None:
    """`text` with the lines NER need not read blanked, or None when NER should read it all.

    The line before and after each line NER reads stay too: spaCy's NER looks a few tokens
    either side, and a name read without its neighbours is sometimes missed.
    """
    if len(text) < MIN_SEGMENTED:
        return None
    lines = text.splitlines(keepends=True)
    needed = [needs_ner(line) for line in lines]
    out: list[str] = []
    skipped = 0
    for i, line in enumerate(lines):
        if needed[i] or (i > 0 and needed[i - 1]) or (i + 1 < len(lines) and needed[i + 1]):
            out.append(line)
            continue
        body = line.rstrip("\r\n")
        out.append(" " * len(body) + line[len(body) :])
        skipped += len(body)
    if not skipped:
        return None
    return "".join(out)
