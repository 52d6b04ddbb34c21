"""The privacy engine's tools for walking outbound fields: where text can carry private data.

Each wire API's surface (`cogate.proxy.surfaces`) walks its own request shape with these:
every text goes through `scanner.text(value, path)`; tool-call arguments are parsed as JSON,
tool schemas keep their structure; any other field is scanned string by string unless it
is a known non-content setting. Content that cannot be scanned
(images, audio, files, token ids) goes to `scanner.unscannable(path, kind)`, which refuses,
drops or keeps it per the policy.
"""

from __future__ import annotations

import json
from typing import Any

from cogate.core.surface import Scanner

__all__ = [
    "MESSAGE_KEYS_KEPT",
    "SETTINGS",
    "STRUCTURE",
    "TEXT_PARTS",
    "Scanner",
    "generic",
    "inputs",
    "is_tokens",
    "json_text",
    "tool_schema",
]


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


def tool_schema(tool: Any, path: str, scanner: Scanner) -> Any:
    """Tool and function definitions: descriptions and schemas; names are code, kept."""
    if not isinstance(tool, dict):
        return generic(tool, path, scanner)
    out = {}
    for key, value in tool.items():
        if key in ("type", "name"):
            out[key] = value
        elif key == "function" and isinstance(value, dict):
            out[key] = tool_schema(value, f"{path}.function", scanner)
        else:
            out[key] = generic(value, f"{path}.{key}", scanner, schema=True)
    return out


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
