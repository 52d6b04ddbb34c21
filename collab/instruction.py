"""Sanitize the instruction before it leaves: reduce it to the general task, then redact it.

The bare task text of a context-laden request often carries private facts of its own (the
user's name or city, a clause of their profile). Two reductions are offered; bench/leakage.py
measures them against redaction alone:

- `title`: the task's title without its personal elaboration ("Write a blog post: In light of
  your recent course purchase, ..." → "Write a blog post"), else its first sentence;
- `rewrite`: the local model rewrites the task as a general one without personal details.

Entity redaction (the privacy engine's `sanitize_text`) then runs on exactly the text that
will leave, so whatever a reduction produces is scanned too. Last, the private-context guard
(`cogate.collab.guard`) removes what the private context itself says is private.
"""

from __future__ import annotations

import asyncio
import re

from cogate.core.exchange import Exchange, Sanitizer

from .guard import PrivateGuard
from .runtime_api import LocalRuntime, Sampling

REDUCTIONS = ("none", "title", "rewrite")
DEFAULT_REDUCTION = "title"
FIELD = "sketch.instruction"

_HEADING_LINE = re.compile(r"^#{1,6}[ \t]+.*$", re.MULTILINE)
_TITLE = re.compile(r"^(?P<title>[^:\n]{3,160}?):\s+\S")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

REWRITE_PROMPT = (
    "Rewrite this writing task as one short, general instruction. Keep what kind of text "
    "to write and its topic. Remove names, places, dates and anything about the writer's "
    "own life.\n\nTask: {task}"
)


def strip_headings(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", _HEADING_LINE.sub("", text)).strip()


def task_title(text: str) -> str:
    """The title of a "Title: elaboration" task, else its first sentence."""
    text = strip_headings(text)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    match = _TITLE.match(first)
    if match and 2 <= len(match.group("title").split()) <= 16:
        return match.group("title").strip()
    return _SENTENCE_END.split(first, maxsplit=1)[0].strip()


async def rewrite_task(model: LocalRuntime, text: str) -> str:
    """The local model's general version of the task; the title when it produces nothing usable."""
    text = strip_headings(text)
    prompt = model.chat_prompt([{"role": "user", "content": REWRITE_PROMPT.format(task=text)}])
    reply = await model.complete(
        prompt, Sampling(max_tokens=60, temperature=0.0, repeat_penalty=1.0, stop=("\n\n",))
    )
    line = next((ln.strip() for ln in reply.text.splitlines() if ln.strip()), "")
    line = re.sub(r"^(general (task|instruction)|task|instruction)\s*:\s*", "", line, flags=re.I)
    line = line.strip(" \"'*")
    if len(line.split()) < 3:
        return task_title(text)
    return line


async def sanitize_instruction(
    ex: Exchange,
    instruction: str,
    privacy: Sanitizer,
    *,
    reduction: str = DEFAULT_REDUCTION,
    model: LocalRuntime | None = None,
    guard: PrivateGuard | None = None,
) -> str:
    """The instruction as it may leave: reduced to the general task, entity-redacted, and
    cleared of the private context's own terms (`guard`)."""
    if reduction == "title":
        text = task_title(instruction)
    elif reduction == "rewrite":
        if model is None:
            raise ValueError("the `rewrite` reduction needs the local model")
        text = await rewrite_task(model, instruction)
    elif reduction == "none":
        text = strip_headings(instruction)
    else:
        raise ValueError(f"unknown reduction {reduction!r}; use one of {', '.join(REDUCTIONS)}")
    text = await redact(ex, text, privacy)
    return guard.scrub(text) if guard is not None else text


async def redact(ex: Exchange, text: str, privacy: Sanitizer, field: str = FIELD) -> str:
    """Entity redaction by the privacy engine (detection is CPU work: off the event loop)."""
    if not text:
        return text
    return await asyncio.to_thread(privacy.sanitize_text, ex, text, field)
