"""Every outbound field of a request, per route: where text can carry private data.

`rewrite(route, body, scanner)` returns a new body in which each text field went through
`scanner.text(value, path)`. Known structures are walked precisely (messages, content
parts, tool-call arguments parsed as JSON, tool schemas); any other field is scanned
string by string unless it is a known non-content setting. Content that cannot be scanned
(images, audio, files, token ids) goes to `scanner.unscannable(path, kind)`, which refuses,
drops or keeps it per the policy.
"""

from __future__ import annotations

import json
from typing import Any, Protocol


class Scanner(Protocol):
    def text(self, value: str, path: str, context: str = "") -> str: ...

    def unscannable(self, path: str, kind: str) -> bool:
        """True: keep the item as is; False: drop it. Raises to refuse the request."""
        ...


# Top-level settings that are not content (numbers, enums, tool choice by name).
SETTINGS = {
    "model",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "tool_choice",
    "parallel_tool_calls",
    "service_tier",
    "reasoning_effort",
    "modalities",
    "encoding_format",
    "dimensions",
    "store",
    "echo",
    "best_of",
    "verbosity",
    "function_call",
}
# Keys inside JSON schemas and typed objects whose values are structure, not content.
STRUCTURE = {
    "type",
    "format",
    "$ref",
    "$schema",
    "$id",
    "pattern",
    "required",
    "strict",
    "additionalProperties",
    "name",
    "role",
    "tool_call_id",
    "id",
    "detail",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
}
TEXT_PARTS = {"text", "input_text", "output_text"}
MESSAGE_KEYS_KEPT = {"role", "tool_call_id", "audio"}


def rewrite(route: str, body: dict[str, Any], scanner: Scanner) -> dict[str, Any]:
    if route == "models":
        return dict(body)
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in SETTINGS:
            out[key] = value
        elif route == "chat/completions" and key == "messages" and isinstance(value, list):
            out[key] = [_message(m, f"messages[{i}]", scanner) for i, m in enumerate(value)]
        elif key in ("tools", "functions") and isinstance(value, list):
            out[key] = [_tool(t, f"{key}[{i}]", scanner) for i, t in enumerate(value)]
        elif route == "completions" and key == "prompt":
            out[key] = _inputs(value, "prompt", scanner)
        elif route == "embeddings" and key == "input":
            out[key] = _inputs(value, "input", scanner)
        else:
            out[key] = generic(value, key, scanner, schema=key == "response_format")
    return out


def generic(
    value: Any, path: str, scanner: Scanner, key: str | None = None, schema: bool = False
) -> Any:
    """Scan every string in a JSON value; dict keys are kept.

    In a JSON schema (`schema`), structural values (types, formats, property names in
    `required`) are kept too: they are code, and changing them would break the tool.
    """
    if isinstance(value, str):
        return scanner.text(value, path, context=_context(key))
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if schema and k in STRUCTURE and (k == "required" or not isinstance(v, dict | list)):
                out[k] = v
            else:
                out[k] = generic(v, f"{path}.{k}", scanner, key=k, schema=schema)
        return out
    if isinstance(value, list):
        return [
            generic(item, f"{path}[{i}]", scanner, key=key, schema=schema)
            for i, item in enumerate(value)
        ]
    return value


def _context(key: str | None) -> str:
    # A JSON key in front of its value gives the recognizers their context words back
    # ("email": "...", "phone": "..."); the prefix is never part of a finding.
    if not key or key.isdigit():
        return ""
    return key.replace("_", " ") + ": "


def json_text(value: str, path: str, scanner: Scanner) -> str:
    """A string that holds JSON (tool arguments, tool results): redact values, re-serialise."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return scanner.text(value, path)
    if not isinstance(parsed, dict | list):
        return scanner.text(value, path)
    return json.dumps(generic(parsed, path, scanner), ensure_ascii=False)


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


def _tool(tool: Any, path: str, scanner: Scanner) -> Any:
    """Tool and function definitions: descriptions and schemas; names are code, kept."""
    if not isinstance(tool, dict):
        return generic(tool, path, scanner)
    out = {}
    for key, value in tool.items():
        if key in ("type", "name"):
            out[key] = value
        elif key == "function" and isinstance(value, dict):
            out[key] = _tool(value, f"{path}.function", scanner)
        else:
            out[key] = generic(value, f"{path}.{key}", scanner, schema=True)
    return out


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, int) for v in value)


def _inputs(value: Any, path: str, scanner: Scanner) -> Any:
    """completions `prompt` / embeddings `input`: a string, strings, or token ids."""
    if isinstance(value, str):
        return scanner.text(value, path)
    if _is_tokens(value):
        return value if scanner.unscannable(path, "token_ids") else []
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if isinstance(item, str):
                out.append(scanner.text(item, where))
            elif _is_tokens(item):
                if scanner.unscannable(where, "token_ids"):
                    out.append(item)
            else:
                out.append(generic(item, where, scanner))
        return out
    return generic(value, path, scanner)
