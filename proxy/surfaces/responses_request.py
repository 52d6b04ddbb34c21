"""Outbound request bodies of the OpenAI Responses API, walked by its field contract.

The contract (`contracts/responses*.tsv`, built from openai-python's request types and the
fields real clients send) gives every path a class: text scanned, settings held to their
shape, numbers scanned, ciphertext relayed only when it looks like ciphertext, MCP
credentials forwarded and masked in the ledger, images, audio, remote and binary files to
the policy's `unscannable` rule. An unknown field is refused unless it carries no text.
"""

from __future__ import annotations

import base64
import binascii
from functools import cache
from typing import Any

from cogate.core.surface import Scanner
from cogate.policies.contract import DROP, Custom, Node, Opaque, Walk
from cogate.policies.fields import refuse

from .contracts import contract

TEXT_MIME = ("text/", "application/json", "application/xml", "application/x-yaml")


def rewrite_body(body: dict[str, Any], scanner: Scanner, w: Walk | None = None) -> dict[str, Any]:
    """The Responses request `body` with every path walked by the contract (create, compact,
    input_tokens, conversations and their items share these field names)."""
    walk = w or Walk(scanner)
    out: dict[str, Any] = CONTRACT().walk(body, walk)
    return out


def _unscannable_part(kind: str) -> Node:
    def rule(value: Any, w: Walk) -> Any:
        return value if w.scanner.unscannable(w.path(), kind) else DROP

    return Opaque(rule, f"a whole {kind} part: the policy's unscannable rule")


def _screenshot(value: Any, w: Walk) -> Any:
    return value if w.scanner.unscannable(w.path(), "computer_screenshot") else DROP


def _file_data_rule(value: Any, w: Walk) -> Any:
    if not isinstance(value, str):
        return w.scanner.text(str(value), w.path()) if value is not None else value
    return _file_data(value, w.path(), w.scanner)


def _mcp_only(inner: Node) -> Node:
    """Credentials (`headers`, `authorization`) are accepted on MCP tools only."""

    def run(value: Any, w: Walk) -> Any:
        if isinstance(value, dict) and value.get("type") != "mcp":
            for name in ("headers", "authorization"):
                if name in value:
                    raise refuse(f"{w.path()}.{name}", "absent: only MCP tools carry credentials")
        return inner.walk(value, w)

    return Custom(run, inner)


@cache
def CONTRACT() -> Node:  # noqa: N802  (built once, on first use)
    parts = {
        f"{{type={kind}}}": _unscannable_part(kind)
        for kind in ("input_image", "input_audio", "computer_screenshot", "image_url")
    }
    return contract(
        "responses",
        {"FILE_DATA": Opaque(_file_data_rule, "a text file decoded and scanned, else unscannable")},
        overrides={
            "responses.part": parts,
            "responses.item": {"{type=computer_call_output}.output": Opaque(_screenshot, "")},
        },
        **{
            "responses.item": {"missing": {"": "message"}},
            "responses.tool": {"wrap": {"": _mcp_only}},
        },
    )


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
