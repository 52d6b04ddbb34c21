"""OpenAI Chat Completions: `POST /v1/chat/completions`.

The request walk: messages (content parts, tool calls with JSON arguments, tool results
parsed as JSON), then the shared OpenAI fields. Other names come from the privacy engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from cogate.core.reply import Reply
from cogate.core.surface import Answer, Operation, Scanner, Turn
from cogate.policies.contract import Node
from cogate.policies.fields import TEXT_PARTS, generic, identifier, json_text, object_key

from . import chat_answers
from .openai import FieldWalk, OpenAISurface, api_contract, rewrite_fields


class ChatSurface(OpenAISurface):
    name = "openai.chat"
    operations: Sequence[Operation] = (
        Operation("POST", "/v1/chat/completions", "chat.completions.create"),
    )

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        return rewrite_fields(body, scanner, CONTRACT())

    def conversation_seed(self, op: str, body: dict[str, Any]) -> Any:
        """The system/developer messages and the first user message."""
        messages = body.get("messages")
        if not isinstance(messages, list):
            return None
        first = []
        for message in messages:
            if isinstance(message, dict) and message.get("role") in ("system", "developer", "user"):
                first.append([message.get("role"), message.get("content")])
                if message.get("role") == "user":
                    break
        return ["messages", first]

    def turns(self, op: str, body: dict[str, Any]) -> list[Turn]:
        return chat_answers.conversation(body)

    async def render(self, op: str, body: dict[str, Any], answer: Answer, model: str) -> Reply:
        return await chat_answers.render(body, answer, model)


def _content(value: Any, path: str, scanner: Scanner, *, tool: bool) -> Any:
    if isinstance(value, str):
        return json_text(value, path, scanner) if tool else scanner.text(value, path)
    if not isinstance(value, list):
        return generic(value, path, scanner)
    parts: list[Any] = []
    texts: list[tuple[int, str, str]] = []  # (index in parts, text, path): scanned together
    for i, part in enumerate(value):
        where = f"{path}[{i}]"
        if isinstance(part, str):
            texts.append((len(parts), part, where))
            parts.append(part)
            continue
        if not isinstance(part, dict):
            parts.append(generic(part, where, scanner))
            continue
        kind = part.get("type")
        if kind in TEXT_PARTS and isinstance(part.get("text"), str):
            texts.append((len(parts), part["text"], f"{where}.text"))
            parts.append(_part(part, where, scanner))
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            parts.append(_part(part, where, scanner, field="refusal"))
        elif scanner.unscannable(where, str(kind)):
            parts.append(part)
    scanned = scanner.texts([t for _, t, _ in texts], [p for _, _, p in texts])
    for (index, _, _), text in zip(texts, scanned, strict=True):
        parts[index] = text if isinstance(parts[index], str) else {**parts[index], "text": text}
    return parts


def _part(part: dict[str, Any], path: str, scanner: Scanner, field: str = "text") -> dict:
    """A text part's other members (`type`, `cache_control`, annotations…): scanned too."""
    out: dict[str, Any] = {}
    for key, value in part.items():
        if key == "type":
            out[key] = identifier(value, f"{path}.type", scanner)
        elif key == field:
            out[key] = value if field == "text" else scanner.text(value, f"{path}.{key}")
        else:
            out[object_key(key, f"{path}.{key}", scanner)] = generic(
                value, f"{path}.{key}", scanner, key=key
            )
    return out


ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def _content_of(role: str) -> FieldWalk:
    tool = role in ("tool", "function")
    return lambda value, path, scanner: _content(value, path, scanner, tool=tool)


@cache
def CONTRACT() -> Node:  # noqa: N802  (built once, on first use)
    """The chat contract; message content keeps its own walk (parts scanned as one text,
    tool results parsed as JSON, unscannable parts to the policy's rule)."""
    return api_contract("chat", {f"messages[]{{role={r}}}.content": _content_of(r) for r in ROLES})


SURFACE = ChatSurface()
