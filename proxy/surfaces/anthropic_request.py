"""Anthropic Messages request bodies (`/v1/messages`, `/v1/messages/count_tokens`), walked by
the surface's field contract (`contracts/messages*.tsv`, built from anthropic-python's
request types and the fields Claude Code sends).

Signed blocks: a `thinking` or `redacted_thinking` block is relayed byte for byte (copied
from the raw body, since the upstream rejects a signed block whose bytes changed) only in
an assistant turn and only when its signature or data looks like ciphertext. Anywhere else
it is scanned like text, and a block in which anything was found is dropped: its
signature cannot cover a redacted text, and the API accepts earlier turns without their
thinking, so dropping keeps the conversation going where refusing would end it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cogate.core.surface import Scanner
from cogate.policies.contract import DROP, Custom, Node, Positional, Walk
from cogate.policies.contract_shapes import looks_like_ciphertext

from .contracts import contract
from .json_spans import Verbatim, spans, splice

# Blocks the upstream signed: relayed byte for byte under the rule above, never restored.
VERBATIM_BLOCKS = {"thinking", "redacted_thinking"}
SIGNATURE = {"thinking": "signature", "redacted_thinking": "data"}


def rewrite_request(raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
    """The outbound request body of `POST /v1/messages` or `/v1/messages/count_tokens`."""
    text = raw.decode("utf-8")
    w = Walk(scanner)
    w.state["raw"] = text
    w.state["body"] = body
    w.state["spans"] = spans(text, ("messages", None, "content", None))
    return splice(CONTRACT().walk(body, w))


def _role(w: Walk) -> Any:
    trail = w.trail
    if len(trail) == 4 and trail[0] == "messages" and isinstance(trail[1], int):
        messages = w.state["body"].get("messages")
        message = messages[trail[1]] if isinstance(messages, list) else None
        return message.get("role") if isinstance(message, dict) else None
    return None


def _signed(kind: str) -> Any:
    def wrap(inner: Node) -> Node:
        def run(value: Any, w: Walk) -> Any:
            if isinstance(value, dict) and _role(w) == "assistant":
                span = w.state["spans"].get(tuple(w.trail))
                if span is not None and looks_like_ciphertext(value.get(SIGNATURE[kind])):
                    return Verbatim(w.state["raw"][span[0] : span[1]])
            scanned = inner.walk(value, w)
            return value if scanned == value else DROP

        return Custom(run, inner)

    return wrap


def _whole(kind: str) -> Any:
    """A block cogate cannot read (an image, a binary or remote document): the policy's
    unscannable rule keeps it whole or drops it; its other members are walked if kept."""

    def wrap(inner: Node) -> Node:
        def run(value: Any, w: Walk) -> Any:
            source = value.get("source") if isinstance(value, dict) else None
            source_type = source.get("type") if isinstance(source, dict) else None
            if kind == "document" and source_type in ("text", "content"):
                return inner.walk(value, w)
            document = kind == "document"
            label = f"document:{source_type}" if document else kind
            if not w.scanner.unscannable(w.path() + (".source" if document else ""), label):
                return DROP
            return value

        return Custom(run, inner)

    return wrap


@cache
def CONTRACT() -> Node:  # noqa: N802  (built once, on first use)
    blocks = {
        "wrap": {
            "{type=thinking}": _signed("thinking"),
            "{type=redacted_thinking}": _signed("redacted_thinking"),
            "{type=image}": _whole("image"),
            "{type=document}": _whole("document"),
        }
    }
    return contract(
        "messages",
        {"INPUT": Positional()},
        **{"messages.block": blocks, "messages.tool": {"missing": {"": "custom"}}},
    )
