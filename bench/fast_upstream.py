"""A fast OpenAI-compatible stand-in upstream for latency benchmarks (answers in microseconds).

Run: python bench/fast_upstream.py PORT
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ANSWER = {
    "id": "bench",
    "object": "chat.completion",
    "model": "bench",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
EVENTS = 20
EVENT_GAP_S = 0.002


def chunk(text: str) -> bytes:
    event = {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}}],
    }
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def response_event(kind: str, seq: int, **payload: object) -> bytes:
    """One Responses API event (named, with its sequence number)."""
    data = json.dumps({"type": kind, "sequence_number": seq, **payload})
    return f"event: {kind}\ndata: {data}\n\n".encode()


RESPONSE = {"id": "resp_bench", "object": "response", "status": "in_progress", "output": []}


async def responses_stream(send) -> None:
    """A Responses stream: created, EVENTS text deltas, completed."""
    await send({"type": "http.response.body", "body": response_event(
        "response.created", 0, response=RESPONSE), "more_body": True})  # fmt: skip
    where = {"item_id": "msg_bench", "output_index": 0, "content_index": 0}
    for i in range(EVENTS):
        await asyncio.sleep(EVENT_GAP_S)
        event = response_event("response.output_text.delta", i + 1, delta=f"t{i} ", **where)
        await send({"type": "http.response.body", "body": event, "more_body": True})
    done = {**RESPONSE, "status": "completed"}
    event = response_event("response.completed", EVENTS + 1, response=done)
    await send({"type": "http.response.body", "body": event})


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    stream = scope["method"] == "POST" and json.loads(body or b"{}").get("stream")
    if not stream:
        payload = json.dumps(ANSWER).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    if scope["path"].endswith("/responses"):
        await responses_stream(send)
        return
    for i in range(EVENTS):
        await send({"type": "http.response.body", "body": chunk(f"t{i} "), "more_body": True})
        await asyncio.sleep(EVENT_GAP_S)
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


@contextmanager
def running(workdir: Path) -> Iterator[str]:
    """This upstream in its own process on loopback; yields its base URL (…/v1)."""
    from cogate.proxy.servers import free_port, stop, wait_ready

    port = free_port()
    log = workdir / "fast-upstream.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}/v1"
        wait_ready(f"{base}/models", proc, log)
        yield base
    finally:
        stop(proc)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
