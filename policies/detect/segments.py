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


# Characters of a neighbouring line kept for context: spaCy's NER reads about four tokens
# either side of each token, which in code is well within this.
CONTEXT_CHARS = 48


def _blank(text: str) -> str:
    return re.sub(r"[^\r\n]", " ", text)


def _tail(line: str) -> str:
    """The line with all but its last CONTEXT_CHARS characters (cut at a space) blanked."""
    body = line.rstrip("\r\n")
    cut = max(0, len(body) - CONTEXT_CHARS)
    space = body.find(" ", cut)
    cut = space if cut and space >= 0 else cut
    return _blank(body[:cut]) + line[cut:]


def _head(line: str) -> str:
    """The line with all but its first CONTEXT_CHARS characters (cut at a space) blanked."""
    body = line.rstrip("\r\n")
    cut = min(len(body), CONTEXT_CHARS)
    space = body.rfind(" ", 0, cut + 1)
    cut = space if cut < len(body) and space > 0 else cut
    return line[:cut] + _blank(body[cut:]) + line[len(body) :]


def ner_view(text: str) -> str | None:
    """`text` with the lines NER need not read blanked, or None when NER should read it all.

    The end of the line before and the start of the line after each line NER reads stay:
    spaCy's NER looks a few tokens either side, and a name read without its neighbours is
    sometimes missed.
    """
    if len(text) < MIN_SEGMENTED:
        return None
    lines = text.splitlines(keepends=True)
    needed = [needs_ner(line) for line in lines]
    if all(needed):
        return None
    out: list[str] = []
    for i, line in enumerate(lines):
        after = i > 0 and needed[i - 1]
        if needed[i] or (after and i + 1 < len(lines) and needed[i + 1]):
            out.append(line)
        elif i + 1 < len(lines) and needed[i + 1]:
            out.append(_tail(line))
        elif after:
            out.append(_head(line))
        else:
            out.append(_blank(line))
    return "".join(out)
