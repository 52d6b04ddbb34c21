"""Local and collaborative answers in the Chat Completions shapes, and the chat conversation.

A whole answer is one `chat.completion`; a streamed one is `chat.completion.chunk` events
ending with `data: [DONE]`, with usage at the end when the app asks for it
(`stream_options.include_usage`). This is the one chunk streamer of local answers: the
collaboration modes hand it an `Answer` whose text already has the app's values back.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from cogate.core import sse
from cogate.core.errors import BadRequest, GatewayError, error_body
from cogate.core.reply import Reply
from cogate.core.surface import Answer, Turn


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


async def render(body: dict[str, Any], answer: Answer, model: str) -> Reply:
    """The answer streamed as chunks when the app asked for a stream, else read whole."""
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Reply(
            status=200,
            stream=stream_chunks(answer, model, include_usage),
            media_type="text/event-stream",
        )
    try:
        text = "".join([piece async for piece in answer])
    finally:
        await answer.aclose()
    out = completion_body(
        model,
        text,
        answer.finish_reason or "stop",
        answer.prompt_tokens,
        answer.completion_tokens,
    )
    return Reply(status=200, body=json.dumps(out, ensure_ascii=False).encode())


async def stream_chunks(answer: Answer, model: str, include_usage: bool) -> AsyncIterator[bytes]:
    """chat.completion.chunk events; closing this iterator stops the generation."""
    base = {
        "id": completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return sse.encode_event({**base, "choices": [choice]})

    try:
        yield chunk({"role": "assistant", "content": ""}, None)
        try:
            async for piece in answer:
                if piece:
                    yield chunk({"content": piece}, None)
        except GatewayError as exc:
            # Headers are gone already: say what happened in the stream, as OpenAI does.
            yield sse.encode_event(error_body(exc.message, exc.type, exc.code))
            yield sse.DONE_EVENT
            return
        yield chunk({}, answer.finish_reason or "stop")
        if include_usage:
            counted = usage(answer.prompt_tokens, answer.completion_tokens)
            yield sse.encode_event({**base, "choices": [], "usage": counted})
        yield sse.DONE_EVENT
    finally:
        await answer.aclose()


ROLES = {"system": "system", "developer": "system", "assistant": "assistant"}


def conversation(body: dict[str, Any]) -> list[Turn]:
    """The messages as plain turns (system, user, assistant, tool), in request order;
    refuses parts that are not text, since they cannot be split or read by the local model."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("`messages` must be a non-empty list of chat messages", param="messages")
    turns = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BadRequest(f"messages[{index}] must be an object", param=f"messages[{index}]")
        role = str(message.get("role", "user"))
        role = "tool" if role in ("tool", "function") else ROLES.get(role, "user")
        turns.append(Turn(role, message_text(message, index)))
    return turns


def message_text(message: dict[str, Any], index: int) -> str:
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise BadRequest(
                    f"messages[{index}] has a {kind!r} part; the sketch, logits and local modes "
                    "take text only, so send text or use redact mode",
                    param=f"messages[{index}].content",
                )
        return "\n".join(texts)
    raise BadRequest(
        f"messages[{index}].content must be a string or a list of parts",
        param=f"messages[{index}].content",
    )
