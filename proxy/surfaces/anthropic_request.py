"""Every text-bearing path of an Anthropic Messages request, scanned; signed blocks untouched.

`rewrite_request(raw, body, scanner)` returns the outbound bytes. Text goes through the
privacy engine's scanner; `thinking`, `redacted_thinking` and the web search/fetch result
blocks (which carry `encrypted_content`) are copied from `raw` character for character,
because the upstream verifies them and they were produced from the already-sanitised
conversation. A top-level field cogate does not know is refused if it carries text.
"""

from __future__ import annotations

from typing import Any

from cogate.core.errors import BadRequest
from cogate.core.surface import Scanner
from cogate.policies.fields import generic, json_text

from .json_spans import Verbatim, spans, splice

# Settings that carry no app text (ids, enums, numbers, tool choice by name, configs).
SETTINGS = {
    "model",
    "max_tokens",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tool_choice",
    "thinking",
    "service_tier",
    "speed",
    "cache_control",
    "container",
    "diagnostics",
    "inference_geo",
    "user_profile_id",
    "workspace_id",
    "context_management",
    "mcp_servers",
}
# Blocks the upstream signed or encrypted: relayed byte for byte, never scanned or restored.
VERBATIM_BLOCKS = {
    "thinking",
    "redacted_thinking",
    "web_search_tool_result",
    "web_fetch_tool_result",
}
# Keys whose values are structure, ids or opaque upstream data inside scanned blocks.
KEPT = {
    "type",
    "id",
    "tool_use_id",
    "name",
    "tool_name",
    "cache_control",
    "caller",
    "toolset_name",
    "file_id",
    "media_type",
    "is_error",
    "return_code",
    "error_code",
    "encrypted_stdout",
    "encrypted_index",
    "encrypted_content",
    "file_type",
    "is_file_update",
    "num_lines",
    "start_line",
    "total_lines",
    "old_start",
    "old_lines",
    "new_start",
    "new_lines",
    "start_char_index",
    "end_char_index",
    "start_page_number",
    "end_page_number",
    "start_block_index",
    "end_block_index",
    "document_index",
    "search_result_index",
    "url",
    "page_age",
    "retrieved_at",
    "citations_enabled",
}
TOOL_KEPT = {
    "name",
    "type",
    "cache_control",
    "strict",
    "defer_loading",
    "max_uses",
    "allowed_domains",
    "blocked_domains",
    "allowed_callers",
    "display_width_px",
    "display_height_px",
    "display_number",
    "max_characters",
    "max_content_tokens",
    "citations",
    "eager_input_streaming",
}
ROLES = {"user", "assistant", "system"}


def rewrite_request(raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
    """The outbound request body of `POST /v1/messages` or `/v1/messages/count_tokens`."""
    text = raw.decode("utf-8")
    kept = spans(text, ("messages", None, "content", None))
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in SETTINGS:
            out[key] = value
        elif key == "system":
            out[key] = _content(value, "system", scanner)
        elif key == "messages":
            out[key] = _messages(value, text, kept, scanner)
        elif key == "tools":
            out[key] = _tools(value, scanner)
        elif key in ("stop_sequences", "metadata") or key == "output_config":
            out[key] = generic(value, key, scanner)
        elif not _has_text(value):
            out[key] = value  # numbers, flags, null: nothing to hide
        else:
            raise BadRequest(
                f"cogate does not know the Messages request field {key!r}, so it cannot tell "
                "whether it carries private text; remove it or ask for cogate to support it",
                param=key,
            )
    return splice(out)


def _has_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, dict):
        return any(_has_text(k) or _has_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_text(v) for v in value)
    return False


def _messages(value: Any, text: str, kept: dict, scanner: Scanner) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequest("messages must be a list of {role, content} objects", param="messages")
    out = []
    for i, message in enumerate(value):
        path = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise BadRequest(
                f"{path} must be an object whose role is user, assistant or system",
                param=f"{path}.role",
            )
        item: dict[str, Any] = {}
        for key, part in message.items():
            if key == "role":
                item[key] = part
            elif key == "content":
                item[key] = _content(part, f"{path}.content", scanner, text, kept, i)
            elif not _has_text(part):
                item[key] = part
            else:
                raise BadRequest(
                    f"{path}.{key} is not a Messages field cogate knows; remove it",
                    param=f"{path}.{key}",
                )
        out.append(item)
    return out


def _content(
    value: Any,
    path: str,
    scanner: Scanner,
    text: str = "",
    kept: dict | None = None,
    message: int | None = None,
) -> Any:
    """A string or a list of content blocks (system, message content, tool results)."""
    if isinstance(value, str):
        return scanner.text(value, path)
    if not isinstance(value, list):
        raise BadRequest(f"{path} must be a string or a list of content blocks", param=path)
    blocks = []
    for j, block in enumerate(value):
        where = f"{path}[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if not isinstance(kind, str):
            raise BadRequest(f'{where} must be an object with a "type"', param=where)
        if kind in VERBATIM_BLOCKS:
            span = (
                (kept or {}).get(("messages", message, "content", j))
                if message is not None
                else None
            )
            if span is None:
                raise BadRequest(
                    f"{where}: a {kind} block belongs in assistant messages", param=where
                )
            _check_signed(block, where)
            blocks.append(Verbatim(text[span[0] : span[1]]))
            continue
        result = _block(block, kind, where, scanner)
        if result is not None:
            blocks.append(result)
    return blocks


def _check_signed(block: dict[str, Any], where: str) -> None:
    if block["type"] == "thinking" and not (
        isinstance(block.get("thinking"), str) and isinstance(block.get("signature"), str)
    ):
        raise BadRequest(
            f"{where}: a thinking block needs thinking and signature strings", param=where
        )
    if block["type"] == "redacted_thinking" and not isinstance(block.get("data"), str):
        raise BadRequest(f"{where}: a redacted_thinking block needs a data string", param=where)


def _block(block: dict[str, Any], kind: str, where: str, scanner: Scanner) -> Any:
    """One content block, scanned; None when the policy drops it."""
    if kind == "text":
        return _scan_except(block, where, scanner)
    if kind in ("tool_use", "server_tool_use"):
        out = dict(block)
        if "input" in block:
            out["input"] = _walk_keys(block["input"], f"{where}.input", scanner)
        return out
    if kind == "tool_result":
        out = _scan_except({k: v for k, v in block.items() if k != "content"}, where, scanner)
        content = block.get("content")
        if isinstance(content, str):
            out["content"] = json_text(content, f"{where}.content", scanner)
        elif content is not None:
            out["content"] = _content(content, f"{where}.content", scanner)
        return out
    if kind == "image":
        return block if scanner.unscannable(where, "image") else None
    if kind == "document":
        return _document(block, where, scanner)
    if kind in (
        "search_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "container_upload",
        "tool_reference",
    ):
        return _scan_except(block, where, scanner)
    raise BadRequest(
        f"{where} is a {kind!r} block, which cogate cannot scan yet; remove it", param=where
    )


def _document(block: dict[str, Any], where: str, scanner: Scanner) -> Any:
    source = block.get("source")
    rest = _scan_except({k: v for k, v in block.items() if k != "source"}, where, scanner)
    kind = source.get("type") if isinstance(source, dict) else None
    if isinstance(source, dict) and kind == "text" and isinstance(source.get("data"), str):
        rest["source"] = {**source, "data": scanner.text(source["data"], f"{where}.source.data")}
    elif isinstance(source, dict) and kind == "content":
        inner = source.get("content")
        rest["source"] = {**source, "content": _content(inner, f"{where}.source.content", scanner)}
    elif scanner.unscannable(f"{where}.source", f"document:{kind}"):
        rest["source"] = source
    else:
        return None
    return rest


def _scan_except(value: Any, path: str, scanner: Scanner) -> Any:
    """Scan every string except the values of structural keys (ids, types, opaque data)."""
    if isinstance(value, str):
        return scanner.text(value, path)
    if isinstance(value, dict):
        return {
            k: v if k in KEPT else _scan_except_keyed(v, f"{path}.{k}", scanner, k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scan_except(v, f"{path}[{i}]", scanner) for i, v in enumerate(value)]
    return value


def _scan_except_keyed(value: Any, path: str, scanner: Scanner, key: str) -> Any:
    if isinstance(value, str):
        return scanner.text(value, path, context=key.replace("_", " ") + ": ")
    return _scan_except(value, path, scanner)


def _walk_keys(value: Any, path: str, scanner: Scanner) -> Any:
    """Tool input: leaf values and object keys are both app data."""
    if isinstance(value, str):
        return scanner.text(value, path)
    if isinstance(value, dict):
        out = {}
        # Keys may be app data, so paths (which findings keep) name them by position.
        for n, (k, v) in enumerate(value.items()):
            name = scanner.text(k, f"{path}.<key {n}>") if isinstance(k, str) else k
            out[name] = _walk_keys(v, f"{path}.<value {n}>", scanner)
        return out
    if isinstance(value, list):
        return [_walk_keys(v, f"{path}[{i}]", scanner) for i, v in enumerate(value)]
    return value


def _tools(value: Any, scanner: Scanner) -> Any:
    if not isinstance(value, list):
        raise BadRequest("tools must be a list of tool definitions", param="tools")
    out = []
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise BadRequest(f"{where} must be an object", param=where)
        item = {}
        for key, part in tool.items():
            if key in TOOL_KEPT:
                item[key] = part
            elif key == "description" and isinstance(part, str):
                item[key] = scanner.text(part, f"{where}.description")
            elif key == "input_examples":
                item[key] = _walk_keys(part, f"{where}.input_examples", scanner)
            else:  # input_schema, user_location, anything new: every string scanned
                item[key] = generic(part, f"{where}.{key}", scanner)
        out.append(item)
    return out
