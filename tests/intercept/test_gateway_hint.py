"""The gateway takes the intercepted host only from the addon, and only to pick a known upstream."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from cogate.proxy.intercept.secret import (
    DESTINATION_HEADER,
    SECRET_HEADER,
    read_secret,
    rotate_secret,
)
from fastapi.testclient import TestClient

REPLY = {
    "id": "x",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
}


class Upstream:
    """A real loopback HTTP server that records which requests reached it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                seen.append(self.path)
                body = json.dumps(REPLY).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One gateway for the module (loading the privacy engine takes seconds)."""
    default, mapped = Upstream(), Upstream()
    data_dir = tmp_path_factory.mktemp("gateway") / "data"
    rotate_secret(data_dir)
    before = read_secret(data_dir)
    settings = Settings(
        data_dir=data_dir, upstream=default.url, intercept_upstreams={"api.openai.com": mapped.url}
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield {
            "client": client,
            "data_dir": data_dir,
            "before": before,
            "default": default,
            "mapped": mapped,
        }
    default.server.shutdown()
    mapped.server.shutdown()


@pytest.fixture
def gateway(started: dict) -> tuple[TestClient, Path]:
    started["default"].seen.clear()
    started["mapped"].seen.clear()
    return started["client"], started["data_dir"]


@pytest.fixture
def upstreams(started: dict) -> tuple[Upstream, Upstream]:
    return started["default"], started["mapped"]


BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}


def test_gateway_start_rotates_the_secret(started: dict):
    assert read_secret(started["data_dir"]) not in (None, started["before"])


def test_addon_request_goes_to_the_mapped_upstream(gateway, upstreams):
    client, data_dir = gateway
    default, mapped = upstreams
    headers = {DESTINATION_HEADER: "api.openai.com", SECRET_HEADER: read_secret(data_dir)}
    reply = client.post("/v1/chat/completions", json=BODY, headers=headers)
    assert reply.status_code == 200, reply.text
    assert mapped.seen == ["/v1/chat/completions"] and default.seen == []


def test_direct_request_goes_to_the_default_upstream(gateway, upstreams):
    client, _ = gateway
    default, mapped = upstreams
    assert client.post("/v1/chat/completions", json=BODY).status_code == 200
    assert default.seen == ["/v1/chat/completions"] and mapped.seen == []


@pytest.mark.parametrize("secret", [None, "forged"])
def test_hint_without_the_secret_is_refused_and_nothing_leaves(gateway, upstreams, secret):
    client, _ = gateway
    headers = {DESTINATION_HEADER: "api.openai.com"}
    if secret:
        headers[SECRET_HEADER] = secret
    reply = client.post("/v1/chat/completions", json=BODY, headers=headers)
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "intercept_secret_mismatch"
    assert upstreams[0].seen == [] and upstreams[1].seen == []


def test_hint_for_an_unknown_host_never_becomes_a_fetch(gateway, upstreams):
    client, data_dir = gateway
    headers = {DESTINATION_HEADER: "evil.example", SECRET_HEADER: read_secret(data_dir)}
    reply = client.post("/v1/chat/completions", json=BODY, headers=headers)
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "intercept_destination_not_configured"
    assert upstreams[0].seen == [] and upstreams[1].seen == []
