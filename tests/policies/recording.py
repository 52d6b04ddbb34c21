"""A recording HTTP proxy for end-to-end tests: sits between cogate and the real upstream.

Everything cogate sends (request bodies) and everything the upstream answers is kept, so a
test can show which bytes left the device. Answers are relayed chunk by chunk.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx


@dataclass
class Recording:
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # method, path, body
    responses: list[bytes] = field(default_factory=list)

    def sent(self) -> str:
        return "\n".join(body.decode("utf-8", "replace") for _, _, body in self.requests)

    def answered(self) -> str:
        return "\n".join(body.decode("utf-8", "replace") for body in self.responses)

    def clear(self) -> None:
        self.requests.clear()
        self.responses.clear()


@contextmanager
def recording_proxy(upstream: str) -> Iterator[tuple[str, Recording]]:
    """Yields (base URL to give cogate as --upstream, the recording)."""
    recording = Recording()
    base = upstream.rstrip("/")
    prefix = "/v1"
    client = httpx.Client(trust_env=False, timeout=300)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _relay(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            recording.requests.append((method, self.path, body))
            path = self.path[len(prefix) :] if self.path.startswith(prefix) else self.path
            headers = {"content-type": self.headers.get("content-type", "application/json")}
            with client.stream(method, base + path, content=body or None, headers=headers) as reply:
                self.send_response(reply.status_code)
                self.send_header("content-type", reply.headers.get("content-type", ""))
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                received = []
                for chunk in reply.iter_raw():
                    received.append(chunk)
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                recording.responses.append(b"".join(received))

        def do_POST(self) -> None:
            self._relay("POST")

        def do_GET(self) -> None:
            self._relay("GET")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}", recording
    finally:
        server.shutdown()
        server.server_close()
        client.close()
