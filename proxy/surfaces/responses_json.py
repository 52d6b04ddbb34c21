"""Restores placeholders in whole Responses JSON: response objects, items, item lists.

Every string is restored except identities and opaque blobs (ids, `encrypted_content`),
which the upstream must get back byte for byte; tool-call `arguments` are JSON inside a
string, so restored values are JSON-escaped there.
"""

from __future__ import annotations

from typing import Any

from cogate.core.surface import TextRestore

KEPT = {
    "id", "object", "type", "status", "role", "call_id", "item_id", "response_id",
    "previous_response_id", "encrypted_content", "approval_request_id", "model",
    "first_id", "last_id", "conversation_id", "sequence_number", "file_id",
}  # fmt: skip
JSON_STRINGS = {"arguments"}


def restore_node(node: Any, text: TextRestore, key: str | None = None) -> Any:
    if isinstance(node, str):
        if key in KEPT:
            return node
        return text.restore(node, json_escape=key in JSON_STRINGS)
    if isinstance(node, dict):
        return {k: restore_node(v, text, k) for k, v in node.items()}
    if isinstance(node, list):
        return [restore_node(item, text, key) for item in node]
    return node
