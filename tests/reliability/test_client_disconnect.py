"""An app that hangs up mid-stream makes the gateway cancel the upstream request."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e

COGATE = str(Path(sys.executable).parent / "cogate")


class EndlessUpstream(http.server.ThreadingHTTPServer):
    """Streams events until its client goes away, and notes when that happens."""

    def __init__(self) -> None:
        self.disconnected = threading.Event()
        super().__init__(("127.0.0.1", 0), _EndlessHandler)


class _EndlessHandler(http.server.BaseHTTPRequestHandler):
    server: EndlessUpstream

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        chunk = {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": "x"}}],
        }
        try:
            for _ in range(600):  # at most a minute, then give up
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            self.server.disconnected.set()


def test_client_hang_up_cancels_the_upstream_request(tmp_path: Path) -> None:
    upstream = EndlessUpstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    policy = tmp_path / "p.yaml"
    policy.write_text("mode: passthrough\n")
    data_dir = tmp_path / "data"
    try:
        base = f"http://127.0.0.1:{upstream.server_address[1]}/v1"
        with cogate_server(
            tmp_path, base, args=["--policy", str(policy)], data_dir=data_dir
        ) as url:
            with (
                httpx.Client(trust_env=False, timeout=30) as client,
                client.stream(
                    "POST",
                    f"{url}/chat/completions",
                    json={
                        "model": "m",
                        "stream": True,
                        "messages": [{"role": "user", "content": "hi"}],
                    },
                ) as response,
            ):
                assert next(response.iter_raw())  # the stream is flowing; now hang up
            assert upstream.disconnected.wait(timeout=30), "the upstream kept streaming"
            listed = subprocess.run(
                [COGATE, "audit", "list", "--json", "--data-dir", str(data_dir)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()
    finally:
        upstream.shutdown()
    assert json.loads(listed[0])["outcome"] == "cancelled"


def test_a_stream_is_complete_once_its_ending_event_was_relayed() -> None:
    # An app that hangs up right after `[DONE]`, `response.completed` or `message_stop` had
    # the whole answer: its completion entry says ok, not cancelled.
    from cogate.core.sse import ends_answer

    assert ends_answer(b'data: {"choices":[]}\n\ndata: [DONE]\n\n')
    assert ends_answer(b'event: response.completed\ndata: {"type":"response.completed"}\n\n')
    assert ends_answer(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert not ends_answer(b'data: {"choices":[{"delta":{"content":"half"}}]}\n\n')
    assert not ends_answer(b"event: response.output_text.delta\ndata: {}\n\n")
