"""Parts of the `--local-url` end-to-end tests: llama.cpp's server on a unix socket as the
user's runtime, and a recording door in front of the cloud stand-ins."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cogate.collab.model_files import embedded_model_path
from cogate.proxy.servers import stop

from ..standins.serving import serving

# llama-cpp-python's own server app (python -m llama_cpp.server builds the same one), bound
# to a unix socket through uvicorn, since its command line only takes a host and a port.
UNIX_LAUNCH = (
    "import sys, uvicorn\n"
    "from llama_cpp.server.app import create_app\n"
    "from llama_cpp.server.settings import ModelSettings, ServerSettings\n"
    "app = create_app(server_settings=ServerSettings(), model_settings=[ModelSettings("
    "model=sys.argv[1], n_ctx=2048, n_threads=1, verbose=False)])\n"
    "uvicorn.run(app, uds=sys.argv[2], log_level='warning')\n"
)


@contextmanager
def unix_llama_server(workdir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """llama.cpp's server on a unix socket; yields (`unix:/path`, its process)."""
    sock = workdir / "llama.sock"
    log = workdir / "llama-unix.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", UNIX_LAUNCH, str(embedded_model_path()), str(sock)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        transport = httpx.HTTPTransport(uds=str(sock))
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the unix-socket llama server died:\n{log.read_text()}")
            try:
                with httpx.Client(transport=transport) as client:
                    if client.get("http://localhost/v1/models").status_code == 200:
                        break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the unix-socket llama server did not start")
        yield f"unix:{sock}", proc
    finally:
        stop(proc)


class CloudDoor(http.server.ThreadingHTTPServer):
    """Every request cogate sends to the cloud passes here, is recorded, and goes on to the
    stand-in for its API: Responses, Messages, or the llama.cpp server for the rest."""

    def __init__(self, llama: str, responses: str, messages: str) -> None:
        super().__init__(("127.0.0.1", 0), _DoorHandler)
        self.routes = {"/v1/responses": responses, "/v1/messages": messages.rstrip("/") + "/v1"}
        self.llama = llama
        self.received: list[bytes] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def target(self, path: str) -> str:
        for prefix, base in self.routes.items():
            if path.startswith(prefix):
                return base + path.removeprefix("/v1")
        return self.llama + path.removeprefix("/v1")

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def since(self, start: int) -> list[str]:
        with self.lock:
            return [b.decode("utf-8", "replace") for b in self.received[start:]]


class _DoorHandler(http.server.BaseHTTPRequestHandler):
    server: CloudDoor
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.server.lock:
            self.server.received.append(body)
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() in ("content-type", "authorization", "x-api-key", "anthropic-version")
        }
        answer = httpx.post(
            self.server.target(self.path), content=body, headers=headers, timeout=600
        )
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers.get("content-type", "application/json"))
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)


@contextmanager
def cloud_door(llama: str, responses: str, messages: str) -> Iterator[CloudDoor]:
    with serving(CloudDoor(llama, responses, messages)) as door:
        yield door
