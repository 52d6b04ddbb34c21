"""A hostile upstream's stream: oversized events end cleanly, pathological text restores.

Table tests for issue 13 class 9. Work is bounded by construction (capped events, bounded
placeholder pattern), so these assert behaviour, never time.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import pytest
from cogate.core import sse
from cogate.core.exchange import Finding
from cogate.policies.restore import MAX_HOLD, PLACEHOLDER
from cogate.policies.restore import VaultRestorer as Restorer
from cogate.proxy.pipeline import ForwardRunner
from cogate.proxy.surfaces import exchange_for

from .test_sse_restore import VAULT, chunk_event, received, sse_bytes, whole


async def relay(chunks: list[bytes], limit: int | None = 4096) -> bytes:
    class Upstream:
        async def chunks(self) -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

    ex = exchange_for("chat/completions", {"stream": True})
    ex.findings.append(Finding("PERSON", 0, 1, 1.0, "test"))
    ex.restorer = Restorer(VAULT)
    runner = ForwardRunner(max_event_bytes=limit)
    assert ex.surface is not None
    return b"".join([piece async for piece in runner._relay(ex, ex.surface, Upstream())])


def pieces(raw: bytes, size: int) -> list[bytes]:
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def test_an_event_over_the_limit_ends_the_stream_with_an_error_event() -> None:
    first = sse_bytes([chunk_event({"content": "hello [PERSON_1]"})], done=False)
    huge = b"data: " + json.dumps(chunk_event({"content": "x" * 20_000})).encode()
    out = anyio.run(relay, pieces(first + huge + b"\n\ndata: [DONE]\n\n", 1000))
    events = out.split(b"\n\n")
    assert b"x" * 100 not in out, "no part of the oversized event is relayed"
    assert b"[DONE]" not in out, "the stream ends at the oversized event"
    data = [sse.event_data(e) for e in events if e.strip()]
    text = "".join(d["choices"][0]["delta"].get("content", "") for d in data if "choices" in d)
    assert text == whole("hello [PERSON_1]"), "what came before is restored and released"
    assert data[-1]["error"]["code"] == "upstream_event_too_large"


def test_an_event_under_the_limit_is_restored() -> None:
    text = "[PERSON_1] " + "y" * 3000
    raw = sse_bytes([chunk_event({"content": text}), chunk_event({}, "stop")])
    content, _, done = received(anyio.run(relay, pieces(raw, 7)))
    assert content == whole(text) and done == 1


def test_the_limit_counts_one_event_not_the_stream() -> None:
    events = [chunk_event({"content": f"part {i} [PERSON_1] "}) for i in range(200)]
    raw = sse_bytes([*events, chunk_event({}, "stop")])
    assert len(raw) > 4096
    content, _, done = received(anyio.run(relay, pieces(raw, 333)))
    assert content == whole("".join(f"part {i} [PERSON_1] " for i in range(200)))
    assert done == 1


def test_events_over_the_offload_size_are_restored_in_a_worker() -> None:
    # 100 KiB passes the thread hop (OFFLOAD_EVENT_BYTES) and must come back identical.
    text = ("[PERSON_1] and PERSON_1. " * 4000)[:100_000]
    raw = sse_bytes([chunk_event({"content": text}), chunk_event({}, "stop")])
    content, _, _ = received(anyio.run(relay, pieces(raw, 65536), 1 << 20))
    assert content == whole(text)


async def _iter(chunks: list[bytes], limit: int | None) -> list[bytes]:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [event async for event in sse.iter_events(source(), limit)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64])
def test_iter_events_splits_like_the_whole_stream(size: int) -> None:
    raw = b"data: a\r\n\r\ndata: b\n\nevent: x\r\ndata: c\r\n\r\n\r\ndata: d"
    whole_stream = anyio.run(_iter, [raw], None)
    assert whole_stream[:3] == [b"data: a", b"data: b", b"event: x\ndata: c"]
    assert anyio.run(_iter, pieces(raw, size), None) == whole_stream


def test_iter_events_refuses_to_buffer_past_the_limit() -> None:
    with pytest.raises(sse.EventTooLarge, match="max_sse_event_bytes"):
        anyio.run(_iter, pieces(b"data: " + b"z" * 5000, 100), 2048)


# Inputs that made the previous pattern backtrack for minutes on one 1 MiB event.
PATHOLOGICAL = [
    "[a" + " a" * 50_000,
    "[a" + " " * 100_000,
    "[a" + " _ a" * 30_000,
    "[A_" * 30_000,
    "&#" + "0" * 100_000,
    "A_" * 50_000,
    "[ " * 50_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_no_placeholder_match_is_longer_than_the_hold(text: str) -> None:
    # Bounded matches are what makes restoring linear: every match fits in MAX_HOLD.
    for match in PLACEHOLDER.finditer(text + " [PERSON_1] "):
        assert match.end() - match.start() <= MAX_HOLD
    assert Restorer(VAULT).text.restore(text + " [PERSON_1]").endswith(whole("[PERSON_1]"))
