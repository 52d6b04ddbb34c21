"""OpenAI Chat Completions: `POST /v1/chat/completions`.

The request walk: messages (content parts, tool calls with JSON arguments, tool results
parsed as JSON), then the shared OpenAI fields. Other names come from the privacy engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cogate.core.reply import Reply
from cogate.core.surface import Answer, Operation, Scanner, Turn
from cogate.policies.fields import TEXT_PARTS, generic, identifier, json_text, object_key, refuse

from . import chat_answers
from .openai import OpenAISurface, rewrite_fields


class ChatSurface(OpenAISurface):
    name = "openai.chat"
    operations: Sequence[Operation] = (
        Operation("POST", "/v1/chat/completions", "chat.completions.create"),
    )

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        return rewrite_fields(body, scanner, {"messages": _messages})

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


def _messages(value: Any, path: str, scanner: Scanner) -> Any:
    if not isinstance(value, list):
        return generic(value, path, scanner)
    return [_message(m, f"{path}[{i}]", scanner) for i, m in enumerate(value)]


def _message(message: Any, path: str, scanner: Scanner) -> Any:
    if not isinstance(message, dict):
        return generic(message, path, scanner)
    out: dict[str, Any] = {}
    role = message.get("role")
    for key, value in message.items():
        where = f"{path}.{key}"
        if value is None:
            out[key] = value
        elif key in ("role", "tool_call_id"):
            out[key] = identifier(value, where, scanner)
        elif key == "name" and isinstance(value, str):
            out[key] = scanner.text(value, where, words=True)
        elif key == "audio":
            out[key] = _audio(value, where, scanner)
        elif key == "content":
            out[key] = _content(value, where, scanner, tool=role in ("tool", "function"))
        elif key == "tool_calls" and isinstance(value, list):
            out[key] = [_tool_call(c, f"{where}[{i}]", scanner) for i, c in enumerate(value)]
        elif key == "function_call" and isinstance(value, dict):
            out[key] = _function_call(value, where, scanner)
        else:  # refusal, reasoning fields, anything new
            out[key] = generic(value, where, scanner)
    return out


def _audio(value: Any, path: str, scanner: Scanner) -> Any:
    """An assistant's earlier audio answer, referred to by id only."""
    if not isinstance(value, dict) or set(value) != {"id"}:
        raise refuse(path, 'an object `{"id": ...}` naming an earlier audio answer')
    return {"id": identifier(value["id"], f"{path}.id", scanner)}


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


def _tool_call(call: Any, path: str, scanner: Scanner) -> Any:
    if not isinstance(call, dict):
        return generic(call, path, scanner)
    out: dict[str, Any] = {}
    for key, value in call.items():
        where = f"{path}.{key}"
        if key == "function" and isinstance(value, dict):
            out[key] = _function_call(value, where, scanner)
        elif key in ("id", "type") and value is not None:
            out[key] = identifier(value, where, scanner)
        else:  # index, anything new
            out[object_key(key, where, scanner)] = generic(value, where, scanner, key=key)
    return out


def _function_call(function: dict[str, Any], path: str, scanner: Scanner) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in function.items():
        where = f"{path}.{key}"
        if key == "arguments" and isinstance(value, str):
            out[key] = json_text(value, where, scanner)
        elif key == "name" and value is not None:
            out[key] = identifier(value, where, scanner)
        else:
            out[object_key(key, where, scanner)] = generic(value, where, scanner, key=key)
    return out


SURFACE = ChatSurface()
