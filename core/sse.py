"""Server-sent events: split a byte stream on event boundaries, and write events back.

Only used when a stream must be rewritten (placeholders restored); a stream that needs
no change is relayed byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from .errors import UpstreamUnreachable

DONE = object()


DEFAULT_MAX_EVENT_BYTES = 1024 * 1024

# How the streams of the APIs cogate serves say "this answer is complete": Chat Completions'
# `[DONE]`, the Responses API's terminal events, the Messages API's `message_stop`.
_ENDINGS = (
    b"data: [DONE]",
    b"event: response.completed",
    b"event: response.incomplete",
    b"event: response.failed",
    b"event: message_stop",
)
TAIL_BYTES = 512  # enough of a stream's end to hold its last event's name


def ends_answer(tail: bytes) -> bool:
    """Whether a stream whose last bytes are `tail` had delivered a complete answer."""
    return any(ending in tail for ending in _ENDINGS)


class EventTooLarge(UpstreamUnreachable):
    code = "upstream_event_too_large"


async def iter_events(
    chunks: AsyncIterator[bytes], max_event_bytes: int | None = DEFAULT_MAX_EVENT_BYTES
) -> AsyncIterator[bytes]:
    """Yield each complete event (without its blank-line terminator) as it arrives.

    Linear in the bytes received: each byte is normalised and searched once (the search
    resumes where the last one stopped). An event growing past `max_event_bytes` raises
    EventTooLarge instead of being buffered without bound.
    """
    buffer = bytearray()
    searched = 0  # buffer[:searched] holds no event boundary
    carry = b""  # a chunk may end between \r and \n
    async for chunk in chunks:
        data = carry + chunk
        carry = b"\r" if data.endswith(b"\r") else b""
        buffer += (data[:-1] if carry else data).replace(b"\r\n", b"\n")
        start = 0
        while True:
            cut = buffer.find(b"\n\n", max(searched - 1, start))
            if cut < 0:
                break
            event = bytes(buffer[start:cut])
            start = searched = cut + 2
            if event.strip():
                yield event
        del buffer[:start]
        searched = max(len(buffer) - 1, 0)
        if max_event_bytes is not None and len(buffer) > max_event_bytes:
            raise EventTooLarge(
                f"the upstream sent one stream event larger than {max_event_bytes} bytes, "
                "cogate's limit; the stream was ended. Raise `max_sse_event_bytes` "
                "(COGATE_MAX_SSE_EVENT_BYTES) if such events are expected"
            )
    buffer += carry
    if bytes(buffer).strip():
        yield bytes(buffer)


def event_data(event: bytes) -> Any:
    """The JSON object an event carries, DONE for `[DONE]`, or None when it carries neither."""
    lines = [line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:")]
    if not lines:
        return None
    data = b"\n".join(lines)
    if data.strip() == b"[DONE]":
        return DONE
    try:
        return json.loads(data)
    except ValueError:
        return None


def event_name(event: bytes) -> str | None:
    """The `event:` field of an event (Responses and Messages streams name every event)."""
    for line in event.split(b"\n"):
        if line.startswith(b"event:"):
            return line[6:].strip().decode("utf-8", "replace")
    return None


def encode_event(obj: dict[str, Any], name: str | None = None) -> bytes:
    data = b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    if name is not None:
        data = b"event: " + name.encode() + b"\n" + data
    return data + b"\n\n"


DONE_EVENT = b"data: [DONE]\n\n"
