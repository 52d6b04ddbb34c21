"""A recording relay in front of a real OpenAI-compatible server: every request's headers
are kept (in arrival order) and the request is relayed to the server, whose answer goes back
as it came. Tests prove with it which app headers reached the upstream."""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from .serving import serving


class RecordingRelay(http.server.ThreadingHTTPServer):
    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")  # the real server's root (no /v1)
        self.seen: list[dict[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: RecordingRelay

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _relay(self) -> None:
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        answer = httpx.request(
            self.command,
            self.server.target + self.path,
            content=body or None,
            headers={"content-type": self.headers.get("content-type", "application/json")},
            timeout=300,
            trust_env=False,
        )
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers.get("content-type", "application/json"))
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = _relay


@contextmanager
def recording_relay(target: str) -> Iterator[RecordingRelay]:
    with serving(RecordingRelay(target)) as relay:
        yield relay
