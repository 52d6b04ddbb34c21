"""The Anthropic Messages API as a cogate surface: `POST /v1/messages` and `count_tokens`.

Routes, the request rewrite (anthropic_request), restoration of answers and streams
(anthropic_stream) and local answers in Messages shape. Batches and any other
`/v1/messages/...` path are not served (404, nothing sent): cogate cannot yet scan or
restore them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from cogate.core import sse
from cogate.core.errors import GatewayError
from cogate.core.reply import Reply
from cogate.core.surface import (
    Answer,
    Held,
    Operation,
    Scanner,
    SSEEvent,
    TextRestore,
    Turn,
    chained,
)
from cogate.policies.contract_table import credentials as contract_credentials

from .anthropic_request import CONTRACT, VERBATIM_BLOCKS, answer_signatures, rewrite_request
from .anthropic_stream import MessagesStreamRestorer, restore_citation, restore_error
from .anthropic_turns import request_turns
from .json_spans import Verbatim, spans, splice

__all__ = ["SURFACE", "MessagesSurface"]

CREATE = "messages.create"
COUNT = "messages.count_tokens"
STOP_REASONS = {"length": "max_tokens", "stop": "end_turn", None: "end_turn"}


class MessagesSurface:
    name = "anthropic.messages"
    upstream = "anthropic"
    strip_prefix = ""
    operations: Sequence[Operation] = (
        Operation("POST", "/v1/messages", CREATE),
        Operation("POST", "/v1/messages/count_tokens", COUNT),
    )
    # The Messages API reads these; they go upstream as the app sent them (never logged).
    forward_headers: Sequence[str] = (
        "x-api-key",
        "authorization",
        "anthropic-version",
        "anthropic-beta",
    )

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        return rewrite_request(raw, body, scanner)

    def stream_requested(self, op: str, body: dict[str, Any]) -> bool:
        return op == CREATE and body.get("stream") is True

    def conversation_seed(self, op: str, body: dict[str, Any]) -> Any:
        """System text and the first user turn: the same in every turn of one conversation."""
        messages = body.get("messages")
        first = next(
            (
                m.get("content")
                for m in messages or []
                if isinstance(m, dict) and m.get("role") == "user"
            ),
            None,
        )
        if first is None and body.get("system") is None:
            return None
        return ["anthropic.messages", body.get("system"), first]

    def restore_json(self, op: str, body: Any, text: TextRestore) -> Any:
        if not isinstance(body, dict):
            return body
        if body.get("type") == "error":
            return restore_error(body, text)
        content = body.get("content")
        if op != CREATE or not isinstance(content, list):
            return body
        # The text blocks of one answer are read in order, as an app that joins them does.
        prose = chained(text)
        return {**body, "content": [_restore_block(b, text, prose) for b in content]}

    def restore_bytes(self, op: str, raw: bytes, text: TextRestore) -> bytes:
        """`restore_json` on the upstream's bytes; signed blocks keep their exact bytes."""
        body = json.loads(raw)
        restored = self.restore_json(op, body, text)
        if restored is body:
            return raw
        source = raw.decode("utf-8")
        where = spans(source, ("content", None))
        if isinstance(restored, dict) and isinstance(restored.get("content"), list):
            restored["content"] = [
                Verbatim(source[slice(*where[("content", i)])])
                if isinstance(b, dict)
                and isinstance(b.get("type"), str)
                and b["type"] in VERBATIM_BLOCKS
                and ("content", i) in where
                else b
                for i, b in enumerate(restored["content"])
            ]
        return splice(restored)

    def stream_restorer(self, op: str, held: Held, text: TextRestore) -> MessagesStreamRestorer:
        return MessagesStreamRestorer(held, text)

    def turns(self, op: str, body: dict[str, Any]) -> list[Turn]:
        return request_turns(body)

    def cloud_request(
        self, op: str, model: str | None, system: str, prompt: str, max_tokens: int
    ) -> tuple[str, dict[str, Any]]:
        """A collaboration mode's question as a Messages request to the app's upstream."""
        body: dict[str, Any] = {"model": model} if model else {}
        body.update(
            max_tokens=max_tokens,
            system=system,
            messages=[{"role": "user", "content": prompt}],
            temperature=0.3,
        )
        return "v1/messages", body

    def cloud_text(self, op: str, answer: Any) -> str:
        texts = [b["text"] for b in answer["content"] if b.get("type") == "text"]
        if not "".join(texts).strip():
            raise ValueError("the answer holds no text")
        return "".join(texts)

    def signatures(self, op: str, answer: Any) -> list[str]:
        """Signatures and redacted data of the signed blocks of a whole answer, a
        `content_block_start` or a `signature_delta` (the stream sends a block's signature
        whole, in one delta before the block stops)."""
        return answer_signatures(answer) if op == CREATE else []

    def credentials(self, op: str, body: dict[str, Any]) -> list[str]:
        """MCP servers' `authorization_token`s: masked in the ledger's copy of the body."""
        return contract_credentials(CONTRACT(), body)

    def stream_error(self, op: str, error: dict[str, Any]) -> SSEEvent:
        """cogate's error as the Messages API's `error` event, which the SDKs raise."""
        message = (error.get("error") or {}).get("message", "the stream was cut")
        return SSEEvent(
            "error", {"type": "error", "error": {"type": "api_error", "message": message}}
        )

    async def render(self, op: str, body: dict[str, Any], answer: Answer, model: str) -> Reply:
        """A Messages answer: `count_tokens` reads the prompt's size and generates nothing."""
        if op == COUNT:
            await answer.aclose()
            return Reply(status=200, body=_encode({"input_tokens": answer.prompt_tokens}))
        if self.stream_requested(op, body):
            return Reply(
                status=200, stream=events(self, answer, model), media_type="text/event-stream"
            )
        try:
            text = "".join([piece async for piece in answer])
        finally:
            await answer.aclose()
        return Reply(status=200, body=_encode(_message(model, text, answer)))


def _restore_block(block: Any, text: TextRestore, prose: TextRestore) -> Any:
    if not isinstance(block, dict):
        return block
    kind = block.get("type")
    if kind == "text":
        out = {**block, "text": prose.restore(block.get("text") or "")}
        if isinstance(block.get("citations"), list):
            out["citations"] = [restore_citation(c, text) for c in block["citations"]]
        return out
    if kind in ("tool_use", "server_tool_use") and "input" in block:
        return {**block, "input": _restore_tree(block["input"], text)}
    return block  # thinking, redacted_thinking, server results: never restored


def _restore_tree(value: Any, text: TextRestore) -> Any:
    if isinstance(value, str):
        return text.restore(value)
    if isinstance(value, dict):
        return {text.restore(k): _restore_tree(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore_tree(v, text) for v in value]
    return value


def _message(model: str, text: str, answer: Answer) -> dict[str, Any]:
    return {
        "id": "msg_cogate_" + uuid.uuid4().hex[:20],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": STOP_REASONS.get(answer.finish_reason, "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": answer.prompt_tokens, "output_tokens": answer.completion_tokens},
    }


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _event(name: str, data: dict[str, Any]) -> bytes:
    return sse.encode_event({"type": name, **data}, name)


async def events(surface: MessagesSurface, answer: Answer, model: str) -> AsyncIterator[bytes]:
    """message_start … message_stop, as the Messages API streams them; closing this
    iterator stops the generation."""
    start = _message(model, "", answer)
    usage = {"input_tokens": answer.prompt_tokens, "output_tokens": 0}
    start.update(content=[], stop_reason=None, usage=usage)
    try:
        yield _event("message_start", {"message": start})
        yield _event(
            "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
        )
        try:
            async for piece in answer:
                delta = {"type": "text_delta", "text": piece}
                yield _event("content_block_delta", {"index": 0, "delta": delta})
        except GatewayError as exc:
            # Headers are gone already: end with the `error` event the SDKs raise.
            error = surface.stream_error("messages.create", exc.body())
            yield sse.encode_event(error.data, error.name)
            return
        yield _event("content_block_stop", {"index": 0})
        stop = STOP_REASONS.get(answer.finish_reason, "end_turn")
        usage = {"input_tokens": answer.prompt_tokens, "output_tokens": answer.completion_tokens}
        yield _event(
            "message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage}
        )
        yield _event("message_stop", {})
    finally:
        await answer.aclose()


SURFACE = MessagesSurface()
