"""Restores placeholders in whole Responses JSON: response objects, items, item lists.

Every string is restored except identities and opaque blobs (ids, `encrypted_content`),
which the upstream must get back byte for byte; tool-call `arguments` are JSON inside a
string, so restored values are JSON-escaped there. The text of content parts (`text`,
`refusal`) is restored in order through one chain, across parts and items: an app joins
them (the SDKs' `output_text`), so a URL begun in one part is still a URL in the next.
"""

from __future__ import annotations

from typing import Any

from cogate.core.surface import TextRestore, chained

KEPT = {
    "id", "object", "type", "status", "role", "call_id", "item_id", "response_id",
    "previous_response_id", "encrypted_content", "approval_request_id", "model",
    "first_id", "last_id", "conversation_id", "sequence_number", "file_id",
}  # fmt: skip
JSON_STRINGS = {"arguments"}
PROSE = {"text", "refusal"}  # the text of content parts, read in order


def restore_node(
    node: Any, text: TextRestore, key: str | None = None, prose: TextRestore | None = None
) -> Any:
    """`node` restored; `prose` (default: a new chain) restores the text of its parts."""
    if prose is None and isinstance(node, dict | list):
        prose = chained(text)
    if isinstance(node, str):
        if key in KEPT:
            return node
        if key in PROSE and prose is not None:
            return prose.restore(node)
        return text.restore(node, json_escape=key in JSON_STRINGS)
    if isinstance(node, dict):
        return {k: restore_node(v, text, k, prose) for k, v in node.items()}
    if isinstance(node, list):
        return [restore_node(item, text, key, prose) for item in node]
    return node
