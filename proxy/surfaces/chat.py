"""OpenAI Chat Completions: `POST /v1/chat/completions`.

The request walk: messages (content parts, tool calls with JSON arguments, tool results
parsed as JSON), then the shared OpenAI fields. Other names come from the privacy engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cogate.core.reply import Reply
from cogate.core.surface import Answer, Operation, Scanner, Turn
from cogate.policies.fields import MESSAGE_KEYS_KEPT, TEXT_PARTS, generic, json_text

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
        if key in MESSAGE_KEYS_KEPT or value is None:
            out[key] = value
        elif key == "content":
            out[key] = _content(value, where, scanner, tool=role in ("tool", "function"))
        elif key == "tool_calls" and isinstance(value, list):
            out[key] = [_tool_call(c, f"{where}[{i}]", scanner) for i, c in enumerate(value)]
        elif key == "function_call" and isinstance(value, dict):
            out[key] = _function_call(value, where, scanner)
        else:  # name, refusal, reasoning fields, anything new
            out[key] = generic(value, where, scanner)
    return out


def _content(value: Any, path: str, scanner: Scanner, *, tool: bool) -> Any:
    if isinstance(value, str):
        return json_text(value, path, scanner) if tool else scanner.text(value, path)
    if not isinstance(value, list):
        return generic(value, path, scanner)
    parts: list[Any] = []
    for i, part in enumerate(value):
        where = f"{path}[{i}]"
        if isinstance(part, str):
            parts.append(scanner.text(part, where))
            continue
        if not isinstance(part, dict):
            parts.append(generic(part, where, scanner))
            continue
        kind = part.get("type")
        if kind in TEXT_PARTS and isinstance(part.get("text"), str):
            parts.append({**part, "text": scanner.text(part["text"], f"{where}.text")})
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            parts.append({**part, "refusal": scanner.text(part["refusal"], f"{where}.refusal")})
        elif scanner.unscannable(where, str(kind)):
            parts.append(part)
    return parts


def _tool_call(call: Any, path: str, scanner: Scanner) -> Any:
    if not isinstance(call, dict):
        return generic(call, path, scanner)
    out = dict(call)
    function = call.get("function")
    if isinstance(function, dict):
        out["function"] = _function_call(function, f"{path}.function", scanner)
    for key, value in call.items():
        if key not in ("function", "id", "type", "index"):
            out[key] = generic(value, f"{path}.{key}", scanner)
    return out


def _function_call(function: dict[str, Any], path: str, scanner: Scanner) -> dict[str, Any]:
    out = dict(function)
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        out["arguments"] = json_text(arguments, f"{path}.arguments", scanner)
    elif arguments is not None:
        out["arguments"] = generic(arguments, f"{path}.arguments", scanner)
    return out


SURFACE = ChatSurface()
