"""Every outbound field of a request, per route: where text can carry private data.

`rewrite(route, body, scanner)` returns a new body in which every byte was either scanned
(`scanner.text`: strings, JSON numbers with their key as context, object keys read as words)
or held to a strict shape that cannot carry free text (flags, numbers, identifiers, enums);
a value off its shape is refused with a BadRequest naming the field. Known structures are
walked precisely (messages, content parts scanned together, tool-call arguments parsed as
JSON, tool schemas). Content that cannot be scanned (images, audio, files, token ids) goes
to `scanner.unscannable(path, kind)`, which refuses, drops or keeps it per the policy.
"""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

from cogate.proxy.errors import BadRequest


class Scanner(Protocol):
    def text(self, value: str, path: str, context: str = "", *, words: bool = False) -> str:
        """`value` with private values replaced; `words`: also read `_`/`-` as spaces."""
        ...

    def texts(self, values: list[str], paths: list[str]) -> list[str]:
        """The text parts of one message, scanned together (a value may span two parts)."""
        ...

    def unscannable(self, path: str, kind: str) -> bool:
        """True: keep the item as is; False: drop it. Raises to refuse the request."""
        ...


# Top-level settings: each has a strict shape that cannot carry free text. Strings in
# them are identifiers (ID) and are still scanned as words; numbers are scanned like any
# JSON number; anything off its shape is refused, naming the field.
ID = re.compile(r"[A-Za-z0-9_.:/-]{1,128}")
TOKEN_ID = re.compile(r"\d{1,6}")
SETTINGS = {
    # Model names come from a vendor's list; read as words they give false findings
    # ("claude" as a first name), so `model` is held to the identifier shape only.
    "model": "model",
    "service_tier": "id",
    "reasoning_effort": "id",
    "verbosity": "id",
    "encoding_format": "id",
    "stream": "flag",
    "store": "flag",
    "echo": "flag",
    "parallel_tool_calls": "flag",
    "logprobs": "flag",  # a boolean in chat, a number in completions
    "temperature": "number",
    "top_p": "number",
    "n": "number",
    "max_tokens": "number",
    "max_completion_tokens": "number",
    "presence_penalty": "number",
    "frequency_penalty": "number",
    "top_logprobs": "number",
    "seed": "number",
    "dimensions": "number",
    "best_of": "number",
    "modalities": "ids",
    "logit_bias": "logit_bias",
    "tool_choice": "choice",
    "function_call": "choice",
    "stream_options": "choice",
}
TEXT_PARTS = {"text", "input_text", "output_text"}
# Words of the wire formats and of JSON Schema. A string or key that is exactly one of them
# is kept without a detector call: it is an enumerated word, not free text, and reading it
# as text only produces false findings (`json_schema` taken for a PERSON).
WIRE_WORDS = frozenset(
    [
        "type",
        "properties",
        "required",
        "items",
        "description",
        "enum",
        "const",
        "format",
        "pattern",
        "title",
        "default",
        "examples",
        "additionalProperties",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "$ref",
        "$defs",
        "definitions",
        "$schema",
        "$id",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
        "nullable",
        "strict",
        "name",
        "schema",
        "json_schema",
        "json_object",
        "string",
        "number",
        "integer",
        "boolean",
        "object",
        "array",
        "null",
        "function",
        "functions",
        "tool",
        "tools",
        "parameters",
        "arguments",
        "role",
        "system",
        "user",
        "assistant",
        "developer",
        "content",
        "id",
        "index",
        "auto",
        "none",
        "image_url",
        "input_audio",
        "url",
        "detail",
        "low",
        "high",
        "medium",
        "minimal",
        "xhigh",
        "input_text",
        "output_text",
        "refusal",
        "include_usage",
        "include_obfuscation",
        "cache_control",
        "ephemeral",
        "date-time",
        "date",
        "time",
        "email",
        "uri",
        "uuid",
        "ipv4",
        "ipv6",
        "hostname",
        "flex",
        "scale",
        "priority",
        "audio",
        "float",
        "base64",
        "allowed_tools",
        "mode",
        "tool_calls",
    ]
)


def refuse(path: str, shape: str) -> BadRequest:
    return BadRequest(
        f"`{path}` must be {shape}; cogate forwards only fields it can scan or whose shape "
        "cannot carry free text. Fix the value or remove the field",
        param=path,
    )


def rewrite(route: str, body: dict[str, Any], scanner: Scanner) -> dict[str, Any]:
    if route == "models":
        return dict(body)
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in SETTINGS:
            out[key] = setting(key, value, scanner)
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
    """Scan every string, number and object key in a JSON value; booleans and null stay.

    A number is scanned as its JSON text with its key as context; a replaced number becomes
    a string (the placeholder). Keys are scanned as words (`margaret_thornbury`), and the
    names a JSON schema lists in `required` the same way, so they stay equal to the
    property keys they name. `schema` is accepted for callers; schemas are scanned whole
    (structure never holds a private value, so scanning changes nothing there).
    """
    if isinstance(value, str):
        if key == "pattern":
            return _pattern(value, path, scanner)
        return value if value in WIRE_WORDS else scanner.text(value, path, context=_context(key))
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return number(value, path, scanner, key)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            where = f"{path}.{k}"
            name = object_key(k, where, scanner)
            if name in out:
                raise refuse(where, "a key that stays distinct from its neighbours once redacted")
            if k == "required" and isinstance(v, list) and all(isinstance(i, str) for i in v):
                out[name] = [object_key(i, f"{where}[{n}]", scanner) for n, i in enumerate(v)]
            else:
                out[name] = generic(v, where, scanner, key=k)
        return out
    if isinstance(value, list):
        return [generic(item, f"{path}[{i}]", scanner, key=key) for i, item in enumerate(value)]
    return value


def _pattern(value: str, path: str, scanner: Scanner) -> str:
    """A JSON-schema `pattern`: also read without its regex escapes (`eleanor\\.vance@…`).

    When the unescaped reading holds a private value, that reading, redacted, is what
    leaves: the pattern then matches less, but nothing private does.
    """
    plain = re.sub(r"\\(.)", r"\1", value)
    if plain != value:
        redacted = scanner.text(plain, path, context="pattern: ")
        if redacted != plain:
            return redacted
    return scanner.text(value, path, context="pattern: ")


# Fewer digits than this cannot make any value a recognizer looks for (phone numbers, card,
# account and ID numbers are longer); such numbers are not worth a detector call.
MIN_NUMBER_DIGITS = 5


def number(value: int | float, path: str, scanner: Scanner, key: str | None) -> Any:
    """A JSON number, scanned as its text with its key as context (`"card_number": 4111…`)."""
    text = json.dumps(value)
    if sum(char.isdigit() for char in text) < MIN_NUMBER_DIGITS:
        return value
    scanned = scanner.text(text, path, context=_context(key))
    return value if scanned == text else scanned


def object_key(key: str, path: str, scanner: Scanner) -> str:
    return key if key in WIRE_WORDS else scanner.text(key, f"{path}<key>", words=True)


def identifier(value: Any, path: str, scanner: Scanner) -> Any:
    """An identifier (tool name, call id, model): strict shape, then scanned as words."""
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise refuse(path, "an identifier (1-128 of A-Z a-z 0-9 _ . : / -)")
    return value if value in WIRE_WORDS else scanner.text(value, path, words=True)


def setting(key: str, value: Any, scanner: Scanner) -> Any:
    """A top-level setting: validated against its shape, scanned where it holds text."""
    kind = SETTINGS[key]
    if value is None:
        return value
    if kind == "id":
        return identifier(value, key, scanner)
    if kind == "model":
        if isinstance(value, str) and ID.fullmatch(value):
            return value
        raise refuse(key, "a model name (1-128 of A-Z a-z 0-9 _ . : / -)")
    if kind == "flag":
        if isinstance(value, bool) or (key == "logprobs" and isinstance(value, int)):
            return value
        raise refuse(key, "true or false")
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return number(value, key, scanner, key)
        raise refuse(key, "a number")
    if kind == "ids":
        if isinstance(value, list):
            return [identifier(v, f"{key}[{i}]", scanner) for i, v in enumerate(value)]
        raise refuse(key, "a list of identifiers")
    if kind == "logit_bias":
        if isinstance(value, dict) and all(
            isinstance(k, str) and TOKEN_ID.fullmatch(k) and _is_number(v) for k, v in value.items()
        ):
            return value
        raise refuse(key, "an object of token ids (up to 6 digits) to numbers")
    return choice(value, key, scanner)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= 100


def choice(value: Any, path: str, scanner: Scanner) -> Any:
    """`tool_choice`, `function_call`, `stream_options`: a word, or an object whose `name`s
    are identifiers and whose other members are scanned."""
    if isinstance(value, str):
        return identifier(value, path, scanner)
    if not isinstance(value, dict):
        raise refuse(path, "a word or an object")
    out: dict[str, Any] = {}
    for k, v in value.items():
        where = f"{path}.{k}"
        if k in ("name", "type"):
            out[k] = identifier(v, where, scanner)
        elif isinstance(v, dict):
            out[object_key(k, where, scanner)] = choice(v, where, scanner)
        else:
            out[object_key(k, where, scanner)] = generic(v, where, scanner, key=k)
    return out


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


def _tool(tool: Any, path: str, scanner: Scanner) -> Any:
    """Tool and function definitions: names are identifiers; the rest is scanned."""
    if not isinstance(tool, dict):
        return generic(tool, path, scanner)
    out = {}
    for key, value in tool.items():
        where = f"{path}.{key}"
        if key in ("type", "name") and value is not None:
            out[key] = identifier(value, where, scanner)
        elif key == "function" and isinstance(value, dict):
            out[key] = _tool(value, where, scanner)
        else:
            out[object_key(key, where, scanner)] = generic(value, where, scanner, key=key)
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
