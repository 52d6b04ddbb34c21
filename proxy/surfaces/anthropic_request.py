"""Anthropic Messages request bodies (`/v1/messages`, `/v1/messages/count_tokens`), walked by
the surface's field contract (`contracts/messages*.tsv`, built from anthropic-python's
request types and the fields Claude Code sends).

Signed blocks: a `thinking` or `redacted_thinking` block is relayed byte for byte (copied
from the raw body, since the upstream rejects a signed block whose bytes changed) only in
an assistant turn and only when cogate itself relayed that block to this caller before (the
scanner's `relayed_before`, see `policies/signed_blocks.py`): a genuine signature says
nothing about what its thinking holds, and a session begun without cogate carries the raw
values its text had. Any other `thinking` block is scanned like text and relayed when
nothing was found; one in which anything was found is dropped: its signature cannot cover a
redacted text, and the API accepts earlier turns without their thinking, so dropping keeps
the conversation going where refusing would end it. A `redacted_thinking` block that was not
relayed to this caller is dropped: its data is opaque, so cogate cannot read it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cogate.core.surface import Scanner
from cogate.policies.contract import DROP, Custom, Node, Positional, Walk

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


def answer_signatures(answer: Any) -> list[str]:
    """The signatures (`data` of redacted thinking) in an answer or one stream event."""
    if not isinstance(answer, dict):
        return []
    kind = answer.get("type")
    if kind == "message" and isinstance(answer.get("content"), list):
        blocks = answer["content"]
    elif kind == "content_block_start":
        blocks = [answer.get("content_block")]
    elif kind == "content_block_delta":
        delta = answer.get("delta")
        if isinstance(delta, dict) and delta.get("type") == "signature_delta":
            return [delta["signature"]] if isinstance(delta.get("signature"), str) else []
        return []
    else:
        return []
    found = []
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        field = SIGNATURE.get(kind) if isinstance(kind, str) else None
        if field is not None and isinstance(block.get(field), str) and block[field]:
            found.append(block[field])
    return found


def _role(w: Walk) -> Any:
    trail = w.trail
    if len(trail) == 4 and trail[0] == "messages" and isinstance(trail[1], int):
        messages = w.state["body"].get("messages")
        message = messages[trail[1]] if isinstance(messages, list) else None
        return message.get("role") if isinstance(message, dict) else None
    return None


def relayed_before(value: Any, kind: str, scanner: Scanner) -> bool:
    """Whether this block's signature (or data) is one cogate relayed to this caller."""
    signature = value.get(SIGNATURE[kind]) if isinstance(value, dict) else None
    known = getattr(scanner, "relayed_before", None)  # a scanner without it knows none
    return isinstance(signature, str) and known is not None and bool(known(signature))


def _signed(kind: str) -> Any:
    def wrap(inner: Node) -> Node:
        def run(value: Any, w: Walk) -> Any:
            span = w.state["spans"].get(tuple(w.trail))
            original = Verbatim(w.state["raw"][span[0] : span[1]]) if span is not None else value
            if _role(w) == "assistant" and relayed_before(value, kind, w.scanner):
                return original
            if kind == "redacted_thinking":
                return DROP  # opaque data from elsewhere: nothing cogate could scan
            scanned = inner.walk(value, w)
            return original if scanned == value else DROP

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
