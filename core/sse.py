"""Server-sent events: split a byte stream on event boundaries, and write events back.

Only used when a stream must be rewritten (placeholders restored); a stream that needs
no change is relayed byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

DONE = object()


async def iter_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Yield each complete event (without its blank-line terminator) as it arrives."""
    buffer = b""
    async for chunk in chunks:
        # Normalise on the buffer: a chunk may end between \r and \n.
        buffer = (buffer + chunk).replace(b"\r\n", b"\n")
        while True:
            cut = buffer.find(b"\n\n")
            if cut < 0:
                break
            event, buffer = buffer[:cut], buffer[cut + 2 :]
            if event.strip():
                yield event
    if buffer.strip():
        yield buffer


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
