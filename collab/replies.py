"""Answers written by the local model, in the OpenAI chat.completion formats.

Streamed answers are `chat.completion.chunk` events ending with `data: [DONE]`; usage is
what the local model really read and wrote, sent at the end when the app asks for it
(`stream_options.include_usage`).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from cogate.core import sse
from cogate.core.errors import BadRequest, GatewayError, error_body
from cogate.core.exchange import StreamRestorer
from cogate.core.reply import Reply
from cogate.core.surface import Answer

from .runtime import Generation, Sampling

log = logging.getLogger("cogate.collab.replies")

DEFAULT_MAX_TOKENS = 512


def sampling_from_body(
    body: dict[str, Any], *, default_max_tokens: int = DEFAULT_MAX_TOKENS
) -> Sampling:
    """The app's decoding parameters, checked; those llama.cpp lacks are ignored."""
    n = body.get("n", 1)
    if n not in (1, None):
        raise BadRequest("the local model writes one choice per request; send n=1", param="n")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens")) or default_max_tokens
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    try:
        return Sampling(
            max_tokens=int(max_tokens),
            temperature=float(_given(body, "temperature", 0.7)),
            top_p=float(_given(body, "top_p", 0.95)),
            stop=tuple(str(s) for s in stop),
            seed=int(body["seed"]) if body.get("seed") is not None else None,
        )
    except (TypeError, ValueError):
        raise BadRequest(
            "max_tokens, temperature, top_p and seed must be numbers and stop a string or a list"
        ) from None


def _given(body: dict[str, Any], key: str, default: float) -> Any:
    value = body.get(key)
    return default if value is None else value


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def completion_body(
    model: str, text: str, finish: str, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": usage(prompt_tokens, completion_tokens),
    }


async def answer(
    gen: Generation, body: dict[str, Any], model: str, *, notes: dict[str, Any] | None = None
) -> Reply:
    """Turn a started generation into the app's reply, streamed or whole."""
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Reply(
            status=200,
            stream=stream_chunks(gen, model, include_usage, notes),
            media_type="text/event-stream",
        )
    try:
        text = "".join([piece async for piece in gen])
    finally:
        await gen.aclose()
    finish = gen.finish_reason or "stop"
    if notes is not None:
        notes["usage"] = usage(gen.prompt_tokens, gen.completion_tokens)
    out = completion_body(model, text, finish, gen.prompt_tokens, gen.completion_tokens)
    return Reply(status=200, body=json.dumps(out, ensure_ascii=False).encode())


async def stream_chunks(
    gen: Answer,
    model: str,
    include_usage: bool,
    notes: dict[str, Any] | None = None,
    *,
    restorer: StreamRestorer | None = None,
) -> AsyncIterator[bytes]:
    """chat.completion.chunk events, the app's values put back by `restorer` when given;
    closing this iterator stops the generation. The one chunk streamer of local answers."""
    base = {
        "id": completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        event = {**base, "choices": [choice]}
        out = restorer.feed(event) if restorer is not None else [event]
        return b"".join(sse.encode_event(e) for e in out)

    try:
        yield chunk({"role": "assistant", "content": ""}, None)
        try:
            async for piece in gen:
                yield chunk({"content": piece}, None)
        except GatewayError as exc:
            # Headers are gone already: say what happened in the stream, as OpenAI does.
            yield sse.encode_event(error_body(exc.message, exc.type, exc.code))
            yield sse.DONE_EVENT
            return
        yield chunk({}, gen.finish_reason or "stop")
        for held in restorer.finish() if restorer is not None else []:
            yield sse.encode_event(held)
        counted = usage(gen.prompt_tokens, gen.completion_tokens)
        if notes is not None:
            notes["usage"] = counted
        if include_usage:
            yield sse.encode_event({**base, "choices": [], "usage": counted})
        yield sse.DONE_EVENT
    finally:
        await gen.aclose()
