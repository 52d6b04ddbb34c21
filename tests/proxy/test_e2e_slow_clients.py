"""Slow clients against `cogate serve` (issue 27): a request line, headers or body sent too
slowly is cut within the configured timeouts, with or without a token, while a normal 4 MB
upload on the same gateway goes through.

`cogate serve` runs as a user runs it (COGATE_HEADER_TIMEOUT_S=1, COGATE_BODY_TIMEOUT_S=2);
the upstream is a real HTTP server that answers every chat request.
"""

from __future__ import annotations

import http.server
import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.servers import cogate_server
from tests.standins.serving import serving

pytestmark = pytest.mark.e2e

# Far above the timeouts: a connection still open after this was not cut.
PATIENCE_S = 20.0


class Answering(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.sizes: list[int] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Answering

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        size = int(self.headers.get("content-length", 0))
        self.rfile.read(size)
        self.server.sizes.append(size)
        data = json.dumps(
            {
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
            }  # fmt: skip
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Answering]]:
    work = tmp_path_factory.mktemp("slow")
    policy = work / "policy.yaml"
    policy.write_text("mode: passthrough\n")  # the upload's size, not detection, is measured
    env = {"COGATE_HEADER_TIMEOUT_S": "1", "COGATE_BODY_TIMEOUT_S": "2"}
    with serving(Answering()) as upstream:
        url = f"http://127.0.0.1:{upstream.server_address[1]}/v1"
        with cogate_server(work, url, args=["--policy", str(policy)], env=env) as gw:
            yield gw, upstream


def _cut_after(url: str, send: list[bytes], pause: float = 0.0) -> float:
    """Send `send` (pausing between pieces), then wait: seconds until the gateway closed."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=PATIENCE_S) as sock:
        start = time.monotonic()
        try:
            for piece in send:
                sock.sendall(piece)
                time.sleep(pause)
            while sock.recv(4096):
                pass  # a 4xx the server sent before closing, if any
        except (ConnectionResetError, BrokenPipeError):
            pass
        except TimeoutError:
            pytest.fail(f"the gateway kept a slow client open for {PATIENCE_S}s")
        return time.monotonic() - start


def test_a_partial_request_line_is_cut(gateway) -> None:
    url, _ = gateway
    assert _cut_after(url, [b"POST /v1/chat/compl"]) < PATIENCE_S


def test_headers_trickling_in_are_cut(gateway) -> None:
    url, _ = gateway
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    trickle = [head] + [b"x-pad-%d: 1\r\n" % i for i in range(60)]
    assert _cut_after(url, trickle, pause=0.25) < PATIENCE_S


def test_a_body_that_stops_is_cut(gateway) -> None:
    url, upstream = gateway
    before = len(upstream.sizes)
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n"
    )
    assert _cut_after(url, [head, b'{"model": "m", ']) < PATIENCE_S
    assert len(upstream.sizes) == before  # nothing was forwarded


def test_a_normal_4mb_upload_goes_through(gateway) -> None:
    url, upstream = gateway
    text = "The quarterly numbers look fine. " * 120_000  # ~3.9 MB, under the 4 MiB limit
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    reply = httpx.post(url + "/chat/completions", json=body, timeout=120, trust_env=False)
    assert reply.status_code == 200, reply.text[:300]
    assert upstream.sizes[-1] > 3_900_000
