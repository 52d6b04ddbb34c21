"""Where one passthrough request's time goes inside the gateway, without the network.

Drives the ASGI app directly (no HTTP server, no client library) with the real privacy
engine under a `mode: passthrough` policy, the real SQLite ledger (in a temporary data dir;
`--data-dir` to put it on another disk) and the upstream replaced by httpx.MockTransport.
Prints the mean time per request and, with `--profile`, cProfile's top functions.

Run: .venv/bin/python bench/profile_passthrough.py [--requests N] [--profile] [--stream]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path

import httpx
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline

CHAT = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "Say ok."}]})
ANSWER = {
    "id": "bench",
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
EVENTS = (
    b"".join(
        b"data: " + json.dumps({"choices": [{"delta": {"content": f"t{i}"}}]}).encode() + b"\n\n"
        for i in range(20)
    )
    + b"data: [DONE]\n\n"
)


def upstream(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        return httpx.Response(200, content=EVENTS, headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json=ANSWER)


async def one(app, body: bytes) -> int:
    """One POST /v1/chat/completions through the ASGI app; returns the status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8787"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", b"Bearer sk-bench"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8787),
        "state": {},
    }
    sent = False
    status = 0

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def run(args: argparse.Namespace, data_dir: Path) -> None:
    policy = data_dir / "passthrough.yaml"
    policy.write_text("mode: passthrough\n")
    settings = Settings(upstream="http://upstream.test/v1", data_dir=data_dir, policy=policy)
    transport = httpx.MockTransport(upstream)
    app = create_app(settings, lambda s: assemble_pipeline(s, transport=transport))
    body = CHAT.encode()
    if args.stream:
        body = json.dumps({**json.loads(CHAT), "stream": True}).encode()
    async with app.router.lifespan_context(app):
        for _ in range(50):  # warm up
            assert await one(app, body) == 200
        profiler = cProfile.Profile() if args.profile else None
        start, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(args.requests):
            await one(app, body)
        if profiler:
            profiler.disable()
        await app.state.pipeline.gate.drain()  # completion entries are part of the cost
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    # CPU time (every thread of the process) is the gateway's own work; wall time adds the
    # disk flush and whatever else the machine was doing.
    print(
        f"{args.requests} requests: {elapsed / args.requests * 1000:.3f} ms wall, "
        f"{cpu / args.requests * 1000:.3f} ms CPU per request"
    )
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(args.sort)
        stats.print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    if args.data_dir:
        asyncio.run(run(args, args.data_dir))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
