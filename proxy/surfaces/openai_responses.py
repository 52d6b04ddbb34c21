"""The OpenAI Responses API surface: operations, request fields, answers, streams, turns.

Implements the wire-API seam (SURFACE.md) for `/v1/responses` and the conversation
endpoints that carry items. Any other path under these prefixes is refused by the gateway,
never passed through unread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cogate.policies.fields import Scanner
from cogate.proxy.errors import BadRequest

from .responses_json import TextRestore, restore_node
from .responses_request import rewrite_body
from .responses_stream import Held, ResponsesEventRestorer


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    scanned: bool = True


@dataclass
class Turn:
    role: str
    text: str


OPERATIONS: tuple[Operation, ...] = (
    Operation("POST", "/v1/responses", "responses.create"),
    Operation("POST", "/v1/responses/compact", "responses.compact"),
    Operation("POST", "/v1/responses/input_tokens", "responses.input_tokens"),
    Operation("GET", "/v1/responses/{response_id}", "responses.retrieve", scanned=False),
    Operation(
        "GET", "/v1/responses/{response_id}/input_items", "responses.input_items", scanned=False
    ),
    Operation("DELETE", "/v1/responses/{response_id}", "responses.delete", scanned=False),
    Operation("POST", "/v1/responses/{response_id}/cancel", "responses.cancel", scanned=False),
    Operation("POST", "/v1/conversations", "conversations.create"),
    Operation("POST", "/v1/conversations/{conversation_id}/items", "conversations.items.create"),
    Operation(
        "GET",
        "/v1/conversations/{conversation_id}/items",
        "conversations.items.list",
        scanned=False,
    ),
)
# Path prefixes this surface owns: anything else under them is refused.
OWNED_PREFIXES = ("/v1/responses", "/v1/conversations")
STREAMING_OPS = {"responses.create", "responses.retrieve"}


class OpenAIResponses:
    """The `Surface` of the OpenAI Responses API."""

    name = "openai.responses"
    upstream = "openai"
    strip_prefix = "/v1"
    operations: Sequence[Operation] = OPERATIONS

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        # Opaque values (encrypted_content, ids) are kept as the parsed strings, which JSON
        # re-encodes to the same characters: they reach the upstream unchanged.
        out = rewrite_body(body, scanner) if self._scanned(op) else body
        return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()

    def _scanned(self, op: str) -> bool:
        return any(o.name == op and o.scanned for o in self.operations)

    def stream_requested(self, op: str, body: dict[str, Any]) -> bool:
        return op in STREAMING_OPS and bool(body.get("stream"))

    def conversation_seed(self, op: str, body: dict[str, Any]) -> Any:
        """The opening of the conversation: instructions and the first user input."""
        if op not in ("responses.create", "responses.compact", "responses.input_tokens"):
            return None
        first: Any = body.get("input")
        if isinstance(first, list):
            users = [i for i in first if isinstance(i, dict) and i.get("role") == "user"]
            first = users[0].get("content") if users else None
        if first is None and body.get("instructions") is None:
            return None
        return {"instructions": body.get("instructions"), "first_user": first}

    def restore_json(self, op: str, body: Any, text: TextRestore) -> Any:
        return restore_node(body, text)

    def stream_restorer(self, op: str, held: Held, text: TextRestore) -> ResponsesEventRestorer:
        return ResponsesEventRestorer(held, text)

    def turns(self, op: str, body: dict[str, Any]) -> list[Turn]:
        return conversation_turns(body)

    def render(self, op: str, body: dict[str, Any], answer: Any, model: str) -> Any:
        """A `Reply` (see responses_render; imported here so the privacy engine, which
        imports this module for `rewrite`, does not pull in the pipeline)."""
        from . import responses_render

        if op != "responses.create":
            raise BadRequest(f"{op} cannot be answered by the local model; use redact mode")
        return responses_render.render(body, answer, model)


def conversation_turns(body: dict[str, Any]) -> list[Turn]:
    """The request as plain turns; instructions count as the system message."""
    turns: list[Turn] = []
    if isinstance(body.get("instructions"), str) and body["instructions"]:
        turns.append(Turn("system", body["instructions"]))
    value = body.get("input")
    if isinstance(value, str):
        return [*turns, Turn("user", value)]
    for item in value if isinstance(value, list) else []:
        turn = _item_turn(item) if isinstance(item, dict) else None
        if turn is not None:
            turns.append(turn)
    if not any(t.role == "user" for t in turns):
        raise BadRequest("input holds no user message to answer", param="input")
    return turns


ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def _item_turn(item: dict[str, Any]) -> Turn | None:
    kind = item.get("type", "message")
    if kind == "message":
        return Turn(ROLES.get(str(item.get("role")), "user"), content_text(item.get("content")))
    if kind in ("function_call", "custom_tool_call"):
        call = item.get("arguments", item.get("input", ""))
        return Turn("assistant", f"(calls tool {item.get('name')}: {call})")
    if kind in ("function_call_output", "custom_tool_call_output"):
        output = item.get("output")
        return Turn("tool", output if isinstance(output, str) else content_text(output))
    if kind == "reasoning":
        return None  # the upstream's own reasoning; not part of what the local model reads
    return None


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    texts = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, dict):
            value = part.get("text", part.get("refusal"))
            if isinstance(value, str):
                texts.append(value)
    return "\n".join(texts)


SURFACE = OpenAIResponses()
