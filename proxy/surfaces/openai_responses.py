"""The OpenAI Responses API surface: operations, request fields, answers, streams, turns.

Implements the wire-API seam (SURFACE.md) for `/v1/responses` and the conversation
endpoints that carry items. Any other path under these prefixes is refused by the gateway,
never passed through unread.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cogate.core.errors import BadRequest
from cogate.core.reply import Reply
from cogate.core.surface import (
    Answer,
    Held,
    Operation,
    Scanner,
    SSEEvent,
    TextRestore,
    Turn,
)
from cogate.core.wire import encode_json
from cogate.policies.contract_table import credentials as contract_credentials

from . import responses_render
from .responses_json import restore_node
from .responses_request import CONTRACT, rewrite_body
from .responses_stream import ResponsesEventRestorer

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
STREAMING_OPS = {"responses.create", "responses.retrieve"}


class OpenAIResponses:
    """The `Surface` of the OpenAI Responses API."""

    name = "openai.responses"
    upstream = "openai"
    strip_prefix = "/v1"
    operations: Sequence[Operation] = OPERATIONS
    # The shapes of the ids the upstream hands out (checked by the gateway's ingress); no
    # '-', so a dashed number (an SSN) can never stand in a URL's id.
    path_ids: Mapping[str, re.Pattern[str]] = {
        "response_id": re.compile(r"resp_[A-Za-z0-9_]{1,200}"),
        "conversation_id": re.compile(r"conv_[A-Za-z0-9_]{1,200}"),
    }

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        # Opaque values (encrypted_content, ids) are kept as the parsed strings, which JSON
        # re-encodes to the same characters: they reach the upstream unchanged. An operation
        # without a body forwards none; should an app send one anyway, it is scanned too.
        if not body and not self._scanned(op):
            return b""
        return encode_json(rewrite_body(body, scanner))

    def _scanned(self, op: str) -> bool:
        return any(o.name == op and o.scanned for o in self.operations)

    def stream_requested(self, op: str, body: dict[str, Any]) -> bool:
        # retrieve asks in its query string (`?stream=true`, a string), create in its body.
        return op in STREAMING_OPS and body.get("stream") in (True, "true")

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
        if op != "responses.create":
            raise BadRequest(
                f"the sketch, logits and local modes answer responses.create only, not {op}; "
                "use redact mode for this route"
            )
        return conversation_turns(body)

    async def render(self, op: str, body: dict[str, Any], answer: Answer, model: str) -> Reply:
        if op != "responses.create":
            await answer.aclose()
            raise BadRequest(f"{op} cannot be answered by the local model; use redact mode")
        return await responses_render.render(body, answer, model)

    # -- optional members of the seam (core.surface.Stateful) ---------------------------

    def continues(self, op: str, body: dict[str, Any], params: Mapping[str, str]) -> list[str]:
        """The response or conversation this request continues, most specific first."""
        ids = [params[k] for k in ("response_id", "conversation_id") if k in params]
        if isinstance(body.get("previous_response_id"), str):
            ids.append(body["previous_response_id"])
        conversation = body.get("conversation")
        if isinstance(conversation, dict):
            conversation = conversation.get("id")
        if isinstance(conversation, str):
            ids.append(conversation)
        items = body.get("input")
        if isinstance(items, list):
            ids.extend(compaction_ids(items))
        return ids

    def stored_ids(self, op: str, answer: Any) -> list[str]:
        """A response or conversation object's id (whole, or in a stream's envelope), and
        the digest of each compaction item a compact answer hands back: the caller keeps
        that item (store=false) and sends it in a later turn, which must keep numbering."""
        if isinstance(answer, dict) and answer.get("type") == "response.created":
            answer = answer.get("response")
        if not isinstance(answer, dict):
            return []
        if answer.get("object") == "response.compaction" and isinstance(answer.get("output"), list):
            return compaction_ids(answer["output"])
        if answer.get("object") in ("response", "conversation"):
            object_id = answer.get("id")
            return [object_id] if isinstance(object_id, str) else []
        return []

    def credentials(self, op: str, body: dict[str, Any]) -> list[str]:
        """An MCP tool's `authorization` and header values: masked in the ledger."""
        return contract_credentials(CONTRACT(), body)

    def stream_error(self, op: str, error: dict[str, Any]) -> SSEEvent:
        """An `error` event with the Responses fields (code, message, param) at its top, and
        the error object too, from which the openai SDKs raise `APIError`."""
        inner = error.get("error", error)
        fields = {k: inner.get(k) for k in ("code", "message", "param")}
        return SSEEvent("error", {"type": "error", **fields, "error": inner})


def compaction_ids(items: list[Any]) -> list[str]:
    """A stored id for each compaction item: a digest of its `encrypted_content`, never the
    blob itself (the stores key it again: an HMAC tag in PostgreSQL). Newest first, like
    the other ids a request continues."""
    found = [
        "compaction:" + hashlib.sha256(item["encrypted_content"].encode()).hexdigest()
        for item in items
        if isinstance(item, dict)
        and item.get("type") == "compaction"
        and isinstance(item.get("encrypted_content"), str)
    ]
    return found[::-1]


TEXT_ONLY = "the sketch, logits and local modes read text only, so send text or use redact mode"


def conversation_turns(body: dict[str, Any]) -> list[Turn]:
    """The request as plain turns; instructions count as the system message. History the
    upstream stores (`previous_response_id`, `conversation`) cannot be read on the device,
    and parts or items that are not text cannot be split: both are refused, naming the field."""
    for field in ("previous_response_id", "conversation"):
        if body.get(field):
            raise BadRequest(
                f"{field} names history the upstream stores, which the local model cannot "
                "read; send the whole conversation in `input`, or use redact mode",
                param=field,
            )
    turns: list[Turn] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        turns.append(Turn("system", instructions))
    value = body.get("input")
    if isinstance(value, str):
        return [*turns, Turn("user", value)]
    if not isinstance(value, list):
        raise BadRequest("input must be a string or a list of items", param="input")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadRequest(f"input[{index}] must be an object", param=f"input[{index}]")
        turn = _item_turn(item, f"input[{index}]")
        if turn is not None:
            turns.append(turn)
    if not any(t.role == "user" for t in turns):
        raise BadRequest("input holds no user message to answer", param="input")
    return turns


ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def _item_turn(item: dict[str, Any], path: str) -> Turn | None:
    kind = item.get("type", "message")
    if kind == "message":
        role = ROLES.get(str(item.get("role")), "user")
        return Turn(role, content_text(item.get("content"), f"{path}.content"))
    if kind in ("function_call", "custom_tool_call"):
        call = item.get("arguments", item.get("input", ""))
        return Turn("assistant", f"(calls tool {item.get('name')}: {call})")
    if kind in ("function_call_output", "custom_tool_call_output"):
        output = item.get("output")
        text = output if isinstance(output, str) else content_text(output, f"{path}.output")
        return Turn("tool", text)
    if kind == "reasoning":
        return None  # the upstream's own reasoning (often encrypted): not the conversation
    raise BadRequest(f"{path} is a {kind!r} item; {TEXT_ONLY}", param=path)


def content_text(content: Any, path: str = "content") -> str:
    """The text of a message's content: a string, or text and refusal parts."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise BadRequest(f"{path} must be a string or a list of parts", param=path)
    texts = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else type(part).__name__
        value = part.get("text", part.get("refusal")) if isinstance(part, dict) else None
        if kind not in ("input_text", "output_text", "text", "refusal") or not isinstance(
            value, str
        ):
            raise BadRequest(f"{path}[{index}] is a {kind!r} part; {TEXT_ONLY}", param=path)
        texts.append(value)
    return "\n".join(texts)


SURFACE = OpenAIResponses()
