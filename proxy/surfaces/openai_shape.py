"""Structural checks of the OpenAI request fields cogate must scan.

A field whose shape the privacy engine does not know cannot be scanned, so it is refused
here with its path named (fail closed) rather than forwarded unread. Unknown extra fields
at the top level pass through as they are; the privacy engine scans their strings.
"""

from __future__ import annotations

from typing import Any

from cogate.core.errors import BadRequest

ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def _fail(path: str, expected: str, value: Any) -> BadRequest:
    return BadRequest(
        f"{path} must be {expected}, got {type(value).__name__}; fix the request's {path}",
        param=path,
    )


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) for v in value)


def check_shape(route: str, body: dict[str, Any]) -> None:
    if "model" in body and not isinstance(body["model"], str):
        raise _fail("model", "a string", body["model"])
    if "stream" in body and not isinstance(body["stream"], bool | None):
        raise _fail("stream", "true or false", body["stream"])
    if route == "chat/completions":
        _check_messages(body.get("messages"))
    elif route == "completions":
        _check_text_or_tokens("prompt", body.get("prompt"))
    elif route == "embeddings":
        _check_text_or_tokens("input", body.get("input"))


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise _fail("messages", "a non-empty list of message objects", messages)
    for i, message in enumerate(messages):
        path = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _fail(path, "an object with a role and content", message)
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise BadRequest(
                f"{path}.role is {role!r}; use one of {', '.join(sorted(ROLES))}",
                param=f"{path}.role",
            )
        _check_content(path, message.get("content"))
        if "name" in message and not isinstance(message["name"], str):
            raise _fail(f"{path}.name", "a string", message["name"])
        _check_tool_calls(path, message.get("tool_calls"))


def _check_content(path: str, content: Any) -> None:
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise _fail(f"{path}.content", "a string or a list of content parts", content)
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise _fail(f"{path}.content[{j}]", 'an object with a "type"', part)


def _check_tool_calls(path: str, calls: Any) -> None:
    if calls is None:
        return
    if not isinstance(calls, list):
        raise _fail(f"{path}.tool_calls", "a list", calls)
    for j, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("arguments", ""), str):
            raise _fail(
                f"{path}.tool_calls[{j}].function",
                "an object whose arguments are a JSON string",
                function,
            )


def _check_text_or_tokens(name: str, value: Any) -> None:
    if value is None or isinstance(value, str) or _is_str_list(value) or _is_tokens(value):
        return
    if isinstance(value, list) and all(_is_tokens(v) for v in value):
        return
    raise _fail(name, "a string, a list of strings or token ids", value)
