"""A counting HTTP relay in front of the real upstream: records every request that reached
it, so a test can match what left the gateways against the ledger byte for byte."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@contextmanager
def counting_relay(upstream: str) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """Yields (base URL, list of (path, body) received); forwards each to `upstream`."""
    seen: list[tuple[str, bytes]] = []
    lock = threading.Lock()
    client = httpx.Client(timeout=300, trust_env=False)
    root = upstream.removesuffix("/v1")

    class Handler(BaseHTTPRequestHandler):
        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.command == "POST":
                with lock:
                    seen.append((self.path, body))
            reply = client.request(
                self.command,
                root + self.path,
                content=body,
                headers={"content-type": self.headers.get("content-type", "application/json")},
            )
            try:
                self.send_response(reply.status_code)
                ctype = reply.headers.get("content-type", "application/json")
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the gateway that asked was killed meanwhile

        do_GET = do_POST = _relay

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        client.close()
