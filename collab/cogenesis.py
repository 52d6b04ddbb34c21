"""CoGenesis samples as chat requests, and the private items whose leakage is measured.

Used by the benchmarks, the demo and the end-to-end tests. Two request layouts:

- `sections`: the paper's single user message with `## User Profile`,
  `## User Writing History` and `## Task`;
- `system`: the profile and writing history in the system message, the task as the user turn.

The private items of a sample are its Name (full, first, last), its city, the quoted
strings inside Privacy_info and Smart_device_usage, and each `;`-separated clause of those
two fields; a clause counts as leaked when at least half of its content words appear in one
sentence of an outbound payload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogate.collab.words import content_words
from cogate.core.surface import Turn

LAYOUTS = ("sections", "system")
PRIVATE_FIELDS = ("Privacy_info", "Smart_device_usage")


def load_samples(data_dir: Path | str, limit: int | None = None) -> list[dict[str, Any]]:
    path = Path(data_dir) / "cogenesis-context-aware-dev.json"
    samples = json.loads(path.read_text(encoding="utf-8"))
    return samples[:limit] if limit else samples


def task_of(sample: dict[str, Any]) -> str:
    return sample["conversations"][0]["value"]


def reference_of(sample: dict[str, Any]) -> str:
    return sample["conversations"][1]["value"]


def history_texts(sample: dict[str, Any]) -> list[str]:
    return [item["text"] for item in sample.get("profile", [])]


def _history(sample: dict[str, Any], limit: int | None = None) -> str:
    items = sample.get("profile", [])[:limit]
    return "\n\n".join(f"Task: {item['title']}\nContent: {item['text']}" for item in items)


def request_messages(
    sample: dict[str, Any], layout: str = "sections", history: int | None = None
) -> list[dict[str, str]]:
    """The chat messages an app would send for this sample (`history`: at most this many
    earlier writings, to keep prompts short where the full history is not the point)."""
    profile, task = sample["additional_profile"], task_of(sample)
    if layout == "sections":
        writing = _history(sample, history)
        content = (
            f"## User Profile\n{profile}\n\n## User Writing History\n{writing}\n\n## Task\n{task}"
        )
        return [{"role": "user", "content": content}]
    if layout == "system":
        system = (
            "You write for this user, in their voice.\n\nUser profile:\n"
            f"{profile}\n\nTheir earlier writing:\n{_history(sample, history)}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": task}]
    raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")


def request_turns(
    sample: dict[str, Any], layout: str = "sections", history: int | None = None
) -> list[Turn]:
    """`request_messages` as the plain turns a surface reads from such a request."""
    return [Turn(m["role"], m["content"]) for m in request_messages(sample, layout, history)]


def profile_fields(sample: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in sample["additional_profile"].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


_QUOTED = re.compile(r"""(?<![\w])(['"])(.+?)\1(?![\w])""")


@dataclass
class PrivateItems:
    name: str
    first: str
    last: str
    city: str
    quoted: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)


def private_items(sample: dict[str, Any]) -> PrivateItems:
    fields = profile_fields(sample)
    name = fields.get("Name", "")
    parts = name.split()
    clauses: list[str] = []
    quoted: list[str] = []
    for key in PRIVATE_FIELDS:
        for clause in fields.get(key, "").split(";"):
            clause = clause.strip()
            if clause:
                clauses.append(clause)
                quoted.extend(m.group(2).strip() for m in _QUOTED.finditer(clause))
    return PrivateItems(
        name=name,
        first=parts[0] if parts else "",
        last=parts[-1] if len(parts) > 1 else "",
        city=fields.get("Location", "").split(",")[0].strip(),
        quoted=[q for q in dict.fromkeys(quoted) if len(q) >= 3],
        clauses=clauses,
    )


def payload_texts(payload: Any) -> list[str]:
    """Every string inside a JSON payload (bytes, str or decoded), so escapes hide nothing."""
    if isinstance(payload, bytes | bytearray):
        payload = payload.decode("utf-8", errors="replace")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return [payload]
    out: list[str] = []
    stack = [payload]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[.!?;\n]+", text) if s.strip()]


def _word_in(word: str, texts: Iterable[str]) -> bool:
    if not word:
        return False
    pattern = re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])", re.IGNORECASE)
    return any(pattern.search(text) for text in texts)


def clause_leaked(clause: str, texts: Iterable[str]) -> bool:
    words = content_words(clause)
    if not words:
        return False
    for text in texts:
        for sentence in sentences(text):
            if len(words & content_words(sentence)) * 2 >= len(words):
                return True
    return False


def leaks(items: PrivateItems, texts: list[str]) -> dict[str, tuple[int, int]]:
    """Per category: (items found in `texts`, items in the sample)."""
    return {
        "name_full": (int(_word_in(items.name, texts)), int(bool(items.name))),
        "name_first": (int(_word_in(items.first, texts)), int(bool(items.first))),
        "name_last": (int(_word_in(items.last, texts)), int(bool(items.last))),
        "city": (int(_word_in(items.city, texts)), int(bool(items.city))),
        "quoted": (sum(_word_in(q, texts) for q in items.quoted), len(items.quoted)),
        "clauses": (sum(clause_leaked(c, texts) for c in items.clauses), len(items.clauses)),
    }
