"""A locally written answer in the Responses shape: one Response object, or the event
stream the OpenAI API sends (`response.created` … `response.completed`), with ids and
sequence numbers, so SDK accumulators (`get_final_response()`) rebuild the same object.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from cogate.core.errors import GatewayError
from cogate.core.reply import Reply
from cogate.core.surface import Answer


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def usage(answer: Answer) -> dict[str, Any]:
    return {
        "input_tokens": answer.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": answer.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }


def message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    content = [part] if status != "in_progress" else []
    return {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def response_object(
    body: dict[str, Any], response_id: str, model: str, status: str
) -> dict[str, Any]:
    """The Response envelope; `output` and `usage` are filled in by the caller."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": [],
        "instructions": body.get("instructions"),
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": bool(body.get("parallel_tool_calls", True)),
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": [],
        "previous_response_id": body.get("previous_response_id"),
        "max_output_tokens": body.get("max_output_tokens"),
        "store": False,  # nothing was stored anywhere: the answer was written on the device
        "text": {"format": {"type": "text"}},
        "error": None,
        "incomplete_details": None,
        "usage": None,
    }


def _finished(obj: dict[str, Any], answer: Answer, item: dict[str, Any]) -> dict[str, Any]:
    truncated = answer.finish_reason == "length"
    return {
        **obj,
        "status": "incomplete" if truncated else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if truncated else None,
        "output": [item],
        "usage": usage(answer),
    }


async def whole(body: dict[str, Any], answer: Answer, model: str) -> dict[str, Any]:
    """The finished Response object of a whole (not streamed) answer."""
    try:
        text = "".join([piece async for piece in answer])
    finally:
        await answer.aclose()
    obj = response_object(body, new_id("resp"), model, "in_progress")
    return _finished(obj, answer, message_item(new_id("msg"), text, "completed"))


def sse(kind: str, payload: dict[str, Any], seq: int) -> bytes:
    data = json.dumps({"type": kind, "sequence_number": seq, **payload}, ensure_ascii=False)
    return f"event: {kind}\ndata: {data}\n\n".encode()


async def events(body: dict[str, Any], answer: Answer, model: str) -> AsyncIterator[bytes]:
    """The event stream of one message answer; closing it stops the generation."""
    obj = response_object(body, new_id("resp"), model, "in_progress")
    item_id = new_id("msg")
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    seq = iter(range(1 << 30))
    empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    try:
        yield sse("response.created", {"response": obj}, next(seq))
        yield sse("response.in_progress", {"response": obj}, next(seq))
        item = message_item(item_id, "", "in_progress")
        yield sse("response.output_item.added", {"output_index": 0, "item": item}, next(seq))
        yield sse("response.content_part.added", {**where, "part": empty}, next(seq))
        pieces: list[str] = []
        try:
            async for piece in answer:
                pieces.append(piece)
                delta = {**where, "delta": piece, "logprobs": []}
                yield sse("response.output_text.delta", delta, next(seq))
        except GatewayError as exc:
            failed = {
                **obj,
                "status": "failed",
                "error": {"code": exc.code, "message": exc.message},
            }
            yield sse("response.failed", {"response": failed}, next(seq))
            return
        text = "".join(pieces)
        yield sse("response.output_text.done", {**where, "text": text, "logprobs": []}, next(seq))
        part = {**empty, "text": text}
        yield sse("response.content_part.done", {**where, "part": part}, next(seq))
        item = message_item(item_id, text, "completed")
        yield sse("response.output_item.done", {"output_index": 0, "item": item}, next(seq))
        done = _finished(obj, answer, item)
        name = "response.completed" if done["status"] == "completed" else "response.incomplete"
        yield sse(name, {"response": done}, next(seq))
    finally:
        await answer.aclose()


async def render(body: dict[str, Any], answer: Answer, model: str) -> Reply:
    """The reply to the app: the event stream when the request asked for one, else the
    whole Response object once the answer is written."""
    if body.get("stream"):
        return Reply(status=200, stream=events(body, answer, model), media_type="text/event-stream")
    obj = await whole(body, answer, model)
    return Reply(status=200, body=json.dumps(obj, ensure_ascii=False).encode())
