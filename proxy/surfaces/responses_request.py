"""Outbound request bodies of the OpenAI Responses API: every text-bearing path scanned.

Field paths follow openai-python's `response_create_params` and `response_input_item_param`.
Known item types are walked precisely; an unknown item type has every string scanned; an
unknown top-level field passes only when it carries no text (numbers, booleans, null).
Opaque values the upstream signs or encrypts (`encrypted_content`, item ids) are relayed
unchanged; images, audio and binary files go to `scanner.unscannable`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cogate.core.errors import BadRequest
from cogate.policies.fields import Scanner, generic, json_text

# Top-level settings that are not content: numbers, enums, ids, switches.
SETTINGS = {
    "model", "stream", "stream_options", "temperature", "top_p", "top_logprobs",
    "max_output_tokens", "max_tool_calls", "parallel_tool_calls", "store", "background",
    "background_options", "include", "service_tier", "truncation", "tool_choice",
    "previous_response_id", "prompt_cache_retention", "prompt_cache_options",
    "context_management", "access_programs", "image", "moderation", "reasoning",
    "conversation",
}  # fmt: skip
# Top-level fields that carry text the app wrote.
TEXT = {"instructions", "input", "tools", "text", "prompt", "metadata", "user",
        "safety_identifier", "prompt_cache_key", "items", "client_metadata"}  # fmt: skip
# Keys whose values are identity or structure, relayed as they are wherever they appear.
OPAQUE = {
    "type", "id", "call_id", "status", "role", "approval_request_id", "encrypted_content",
    "server_label", "name", "namespace", "caller_id", "fingerprint", "detail", "file_id",
    "approve", "execution", "phase", "format", "action_type", "container_id",
    "timeout_ms", "max_output_length", "mime_type", "vector_store_ids",
}  # fmt: skip
UNSCANNABLE_PARTS = {"input_image", "input_audio", "computer_screenshot", "image_url"}
ARGUMENTS = {"arguments"}  # JSON in a string: parse, redact keys' values, re-encode
CREDENTIALS = ("authorization", "headers")
TEXT_MIME = ("text/", "application/json", "application/xml", "application/x-yaml")


def rewrite_body(body: dict[str, Any], scanner: Scanner) -> dict[str, Any]:
    """The Responses request `body` with every text path scanned (create, compact, tokens,
    conversations and their items share these field names)."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in SETTINGS:
            _check_setting(key, value)
            out[key] = value
        elif key in ("input", "items"):
            out[key] = _input(value, key, scanner)
        elif key == "tools":
            out[key] = _tools(value, scanner)
        elif key == "text":
            out[key] = generic(value, key, scanner)
        elif key in ("metadata", "client_metadata") and isinstance(value, dict):
            # A map of strings (Codex CLI sends its session and turn ids in
            # `client_metadata`): keys and values both scanned.
            out[key] = generic(value, key, scanner)
        elif key in TEXT:
            out[key] = generic(value, key, scanner, key=key)
        elif _carries_no_text(value):
            out[key] = value
        else:
            raise BadRequest(
                f"unknown field {key!r} carries text cogate does not know how to scan; remove "
                "it or send it as a number, boolean or null",
                param=key,
            )
    return out


def _check_setting(key: str, value: Any) -> None:
    """Settings may hold strings (ids, enums) but never free text in nested lists of
    objects cogate does not read; `conversation` is an id or `{"id": ...}`."""
    if key == "conversation" and not (
        value is None
        or isinstance(value, str)
        or (isinstance(value, dict) and set(value) <= {"id"})
    ):
        raise BadRequest('conversation must be an id or {"id": ...}', param="conversation")


def _carries_no_text(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_carries_no_text(v) for v in value.values())
    if isinstance(value, list):
        return all(_carries_no_text(v) for v in value)
    return value is None or isinstance(value, bool | int | float)


def _input(value: Any, path: str, scanner: Scanner) -> Any:
    if isinstance(value, str):
        return scanner.text(value, path)
    if not isinstance(value, list):
        raise BadRequest(f"{path} must be a string or a list of input items", param=path)
    out = []
    for i, item in enumerate(value):
        kept = item_fields(item, f"{path}[{i}]", scanner)
        if kept is not None:
            out.append(kept)
    return out


def item_fields(item: Any, path: str, scanner: Scanner) -> Any:
    """One input (or output) item; None when an unscannable item is to be dropped."""
    if isinstance(item, str):
        return scanner.text(item, path)
    if not isinstance(item, dict):
        raise BadRequest(f"{path} must be an input item object", param=path)
    kind = item.get("type")
    if kind == "item_reference":
        return item  # an id the upstream resolves; nothing to read
    if kind in UNSCANNABLE_PARTS:
        return item if scanner.unscannable(path, str(kind)) else None
    if kind == "computer_call_output":
        return _computer_output(item, path, scanner)
    return _walk(item, path, scanner)


def _walk(node: dict[str, Any], path: str, scanner: Scanner) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        where = f"{path}.{key}"
        if (key in OPAQUE and not isinstance(value, dict | list)) or _scalar(value):
            out[key] = value
        elif key in ARGUMENTS and isinstance(value, str):
            out[key] = json_text(value, where, scanner)
        elif key in ("input_schema", "parameters", "schema"):
            out[key] = generic(value, where, scanner)
        elif key == "file_data" and isinstance(value, str):
            out[key] = _file_data(value, where, scanner)
        elif key == "image_url" and isinstance(value, str):
            out[key] = value if scanner.unscannable(where, "image_url") else ""
        elif key == "tools" and isinstance(value, list):
            out[key] = [_walk_any(t, f"{where}[{i}]", scanner) for i, t in enumerate(value)]
        elif isinstance(value, list):
            parts = [_part(p, f"{where}[{i}]", scanner) for i, p in enumerate(value)]
            out[key] = [p for p in parts if p is not None]
        elif isinstance(value, dict):
            out[key] = _walk(value, where, scanner)
        else:
            out[key] = scanner.text(value, where, context=_context(key))
    return out


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float)


def _walk_any(value: Any, path: str, scanner: Scanner) -> Any:
    if isinstance(value, dict):
        return _walk(value, path, scanner)
    return generic(value, path, scanner)


def _part(part: Any, path: str, scanner: Scanner) -> Any:
    """A list element: a content part (dropped if unscannable and the policy drops it)."""
    if isinstance(part, dict):
        kind = part.get("type")
        if kind is not None and not isinstance(kind, str):
            raise BadRequest(
                f"{path}.type must be a string naming the part's type (input_text, ...)",
                param=f"{path}.type",
            )
        if kind in UNSCANNABLE_PARTS:
            return part if scanner.unscannable(path, kind) else None
        return _walk(part, path, scanner)
    return generic(part, path, scanner)


def _computer_output(item: dict[str, Any], path: str, scanner: Scanner) -> Any:
    """A screenshot answering a computer call: an image, so the unscannable rule decides."""
    if not scanner.unscannable(f"{path}.output", "computer_screenshot"):
        return None
    rest = {k: v for k, v in item.items() if k != "output"}
    return {**_walk(rest, path, scanner), "output": item.get("output")}


def _file_data(value: str, path: str, scanner: Scanner) -> str:
    """An inline file: text files (a data URL with a text type) are decoded, scanned and
    re-encoded; any other file cannot be read, so the unscannable rule decides."""
    head, sep, payload = value.partition(",")
    mime = head[5:].split(";")[0] if head.startswith("data:") else ""
    if sep and head.endswith(";base64") and mime.startswith(TEXT_MIME):
        try:
            text = base64.b64decode(payload, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            text = None
        if text is not None:
            scanned = scanner.text(text, path)
            return f"{head},{base64.b64encode(scanned.encode()).decode()}"
    return value if scanner.unscannable(path, "input_file") else ""


def _tools(value: Any, scanner: Scanner) -> Any:
    if not isinstance(value, list):
        raise BadRequest("tools must be a list of tool definitions", param="tools")
    out = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict):
            raise BadRequest(f"tools[{i}] must be an object", param=f"tools[{i}]")
        plain = {k: v for k, v in tool.items() if k not in CREDENTIALS}
        walked = _walk(plain, f"tools[{i}]", scanner)
        # An MCP server's credentials: forwarded as they are, never scanned (a finding would
        # record where they were) and never written anywhere by this module.
        walked.update({k: tool[k] for k in CREDENTIALS if k in tool})
        out.append(walked)
    return out


def _context(key: str) -> str:
    if not key or key.isdigit():
        return ""
    return key.replace("_", " ") + ": "
