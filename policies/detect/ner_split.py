"""One text's NER shared between the worker process and the gateway's detection thread.

With NER in its own process (`ner_process.py`) the gateway's pattern recognizers finish
well before NER does on prose, and the detection thread then only waits. So the worker
gets the front of the text and, once its own recognizers are done, the gateway reads the
back itself: the two ends finish at about the same time.

Where the text is cut is a privacy decision. The cut falls at a sentence or line end, and
each side reads `OVERLAP` characters past it (spaCy's NER looks about four tokens either
side of each token), so a name near the cut is read with its neighbours by both sides.
Each side's entities are taken on its own side of the cut; an entity the other side found
that overlaps none of those is kept too, so a name only one side saw is never dropped, and
two that overlap across the cut become one covering both.
"""

from __future__ import annotations

import re

Entities = list[tuple[int, int, str]]

# Below this many characters for NER, the whole text goes to the worker: a second spaCy
# call costs more than the share it would take.
MIN_SPLIT = 1024
# The pattern recognizers' time per character, against NER's per character it reads:
# on the lines NER reads too (prose, comments, messages) and on the lines it skips (code,
# log columns), where patterns rarely match. Measured in the worker on this machine: 2 KB
# of prose 17 ms of patterns against 47 ms of NER; a 64 KB agent turn (22,000 of its
# 55,000 characters read by NER) 290 ms against 570 ms.
PATTERNS_ON_READ = 0.37
PATTERNS_ON_SKIPPED = 0.09
# A worker share at or above this is not worth a second spaCy call.
MAX_SHARE = 0.9
# Characters each side reads past the cut.
OVERLAP = 96
# Where a cut may fall: after a sentence's end and its spaces, or after a line break.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*[ \t]+(?=\S)|\n+")
_SPACE = re.compile(r"\s")


def worker_share(text: str, seen: str) -> float:
    """The part of `seen` (what NER reads of `text`) the worker should take so that it
    finishes when the gateway does: the gateway runs the pattern recognizers over all of
    `text` first, then NER over the rest of `seen`."""
    reads = _letters(seen)
    if not reads:
        return 1.0
    skipped = 0 if seen is text else _letters(text) - reads
    patterns = PATTERNS_ON_READ * reads + PATTERNS_ON_SKIPPED * skipped
    return (patterns / reads + 1) / 2


def cut_for(text: str, seen: str) -> int | None:
    """Where to cut `seen` between the worker (before) and the gateway (after), or None
    when the worker should read it all."""
    if len(seen) < MIN_SPLIT:
        return None
    share = worker_share(text, seen)
    if share >= MAX_SHARE:
        return None
    target = int(len(seen) * share)
    best = None
    for match in _BOUNDARY.finditer(seen, OVERLAP, len(seen) - OVERLAP):
        if best is None or abs(match.end() - target) < abs(best - target):
            best = match.end()
        if match.end() > target:
            break
    if best is None or abs(best - target) > len(seen) // 4:
        return None  # no sentence or line end near the share: not worth a worse cut
    return best


def parts(seen: str, cut: int) -> tuple[str, int]:
    """The worker's text (a prefix of `seen`) and where the gateway's part starts: each
    reads at least `OVERLAP` characters past the cut, on to the end of a word (within
    another `OVERLAP`: a longer run of non-space is cut where the overlap ends)."""
    end = cut + OVERLAP
    space = _SPACE.search(seen, end, end + OVERLAP)
    end = space.start() if space else end
    start = cut - OVERLAP
    for i in range(start, max(0, start - OVERLAP), -1):
        if seen[i - 1].isspace():
            start = i
            break
    return seen[:end], start


def joined(front: Entities, back: Entities, cut: int) -> Entities:
    """The worker's entities (`front`) before the cut and the gateway's (`back`) from it
    on, with what either found on the other's side where it overlaps none of those."""
    owned = [e for e in front if e[0] < cut] + [e for e in back if e[0] >= cut]
    extra = [e for e in front if e[0] >= cut] + [e for e in back if e[0] < cut]
    kept = sorted(set(owned + [e for e in extra if not any(_overlap(e, o) for o in owned)]))
    out: Entities = []
    for entity in kept:  # two that overlap (one each side of the cut) become one covering both
        if out and _overlap(out[-1], entity):
            last = out[-1]
            label = last[2] if last[1] - last[0] >= entity[1] - entity[0] else entity[2]
            out[-1] = (last[0], max(last[1], entity[1]), label)
        else:
            out.append(entity)
    return out


def _overlap(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _letters(text: str) -> int:
    """Characters other than whitespace (a view's blanked lines are spaces)."""
    return len(text) - sum(text.count(c) for c in " \n\t\r")
