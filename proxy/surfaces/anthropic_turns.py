"""A Messages request read as plain turns, for the modes that answer on the device.

System text first; each message's blocks in order: text, documents and search results as
their text, a tool call as its name and input, a tool result as a `tool` turn. Thinking
blocks and encrypted server-tool results are the cloud's own and are left out. Images and
binary documents cannot be read as text, so a request holding one is refused (naming the
block) rather than answered as if it were not there.
"""

from __future__ import annotations

import json
from typing import Any

from cogate.core.errors import BadRequest
from cogate.core.surface import Turn

from .anthropic_request import VERBATIM_BLOCKS

# Blocks the local model has nothing to read in: the cloud's reasoning and its encrypted
# or server-side results.
SKIPPED = VERBATIM_BLOCKS | {"server_tool_use", "container_upload", "tool_reference"}


def request_turns(body: dict[str, Any]) -> list[Turn]:
    """The conversation of a Messages request as turns (consecutive same-role text joined)."""
    turns: list[Turn] = []
    system = _text(body.get("system"), "system")
    if system:
        turns.append(Turn("system", system))
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BadRequest(f"messages[{i}] must be an object", param=f"messages[{i}]")
        role = "assistant" if message.get("role") == "assistant" else "user"
        for kind, text in _pieces(message.get("content"), f"messages[{i}].content", role):
            if turns and turns[-1].role == kind and kind != "system":
                turns[-1] = Turn(kind, f"{turns[-1].text}\n{text}")
            else:
                turns.append(Turn(kind, text))
    return turns


def _pieces(content: Any, path: str, role: str) -> list[tuple[str, str]]:
    """(role, text) of each readable block: tool results become `tool` turns."""
    if isinstance(content, str):
        return [(role, content)] if content else []
    if not isinstance(content, list):
        raise BadRequest(f"{path} must be a string or a list of content blocks", param=path)
    out = []
    for j, block in enumerate(content):
        where = f"{path}[{j}]"
        if isinstance(block, dict) and block.get("type") == "tool_result":
            text = _text(block.get("content"), f"{where}.content")
            out.append(("tool", f"(error) {text}" if block.get("is_error") else text))
        elif text := _block(block, where):
            out.append((role, text))
    return out


def _text(content: Any, path: str) -> str:
    """The text of a string or a list of blocks (system, tool result or document content)."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise BadRequest(f"{path} must be a string or a list of content blocks", param=path)
    texts = (_block(block, f"{path}[{j}]") for j, block in enumerate(content))
    return "\n".join(t for t in texts if t)


def _block(block: Any, where: str) -> str:
    kind = block.get("type") if isinstance(block, dict) else None
    if not isinstance(block, dict) or kind in SKIPPED:
        return ""
    if kind == "text":
        return str(block.get("text") or "")
    if kind == "tool_use":
        return f"(tool call {block.get('name')}: {json.dumps(block.get('input'))})"
    if kind == "search_result":
        body = _text(block.get("content"), f"{where}.content")
        return "\n".join(str(p) for p in (block.get("title"), block.get("source"), body) if p)
    if kind == "document":
        return _document(block, where)
    raise BadRequest(
        f"{where} is a {kind!r} block; the local and collaborative modes read text only, "
        "so send text or use redact mode",
        param=where,
    )


def _document(block: dict[str, Any], where: str) -> str:
    source = block.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if isinstance(source, dict) and kind == "text":
        text = str(source.get("data") or "")
    elif isinstance(source, dict) and kind == "content":
        text = _text(source.get("content"), f"{where}.source.content")
    else:
        raise BadRequest(
            f"{where} is a {kind!r} document; the local and collaborative modes read text "
            "only, so send its text or use redact mode",
            param=f"{where}.source",
        )
    parts = (block.get("title"), block.get("context"), text)
    return "\n".join(str(p) for p in parts if p)
