"""The privacy engine's tools for walking outbound fields: where text can carry private data.

Each wire API's surface (`cogate.proxy.surfaces`) walks its own request shape with these, so
that every byte it forwards was either scanned (`scanner.text`: strings, JSON numbers with
their key as context, object keys read as words) or held to a strict shape that cannot carry
free text (flags, numbers, identifiers, enums); a value off its shape is refused with a
BadRequest naming the field. Content that cannot be scanned (images, audio, files, token
ids) goes to `scanner.unscannable(path, kind)`, which refuses, drops or keeps it per the policy.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cogate.core.errors import BadRequest
from cogate.core.surface import Scanner

__all__ = [
    "ID",
    "TEXT_PARTS",
    "Scanner",
    "generic",
    "identifier",
    "inputs",
    "is_tokens",
    "json_text",
    "number",
    "object_key",
    "refuse",
]


# The identifier shape (tool names, call ids, model names): it cannot carry free text.
ID = re.compile(r"[A-Za-z0-9_.:/-]{1,128}")
TOKEN_ID = re.compile(r"\d{1,6}")
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


def generic(value: Any, path: str, scanner: Scanner, key: str | None = None) -> Any:
    """Scan every string, number and object key in a JSON value; booleans and null stay.

    A number is scanned as its JSON text with its key as context; a replaced number becomes
    a string (the placeholder). Keys are scanned as words (`margaret_thornbury`), and the
    names a JSON schema lists in `required` the same way, so they stay equal to the
    property keys they name. JSON schemas are scanned whole like any value (structure never
    holds a private value, so scanning changes nothing there).
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


def is_tokens(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, int) for v in value)


def inputs(value: Any, path: str, scanner: Scanner) -> Any:
    """completions `prompt` / embeddings `input`: a string, strings, or token ids."""
    if isinstance(value, str):
        return scanner.text(value, path)
    if is_tokens(value):
        return value if scanner.unscannable(path, "token_ids") else []
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if isinstance(item, str):
                out.append(scanner.text(item, where))
            elif is_tokens(item):
                if scanner.unscannable(where, "token_ids"):
                    out.append(item)
            else:
                out.append(generic(item, where, scanner))
        return out
    return generic(value, path, scanner)
