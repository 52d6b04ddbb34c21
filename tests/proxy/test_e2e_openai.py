"""The official openai SDK through `cogate serve` against a real llama.cpp server."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def passthrough_gateway(
    llama_upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    work = tmp_path_factory.mktemp("gateway")
    policy = work / "passthrough.yaml"
    policy.write_text("mode: passthrough\n")
    with cogate_server(work, llama_upstream, args=["--policy", str(policy)]) as url:
        yield url


@pytest.fixture
def client(passthrough_gateway: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=passthrough_gateway, api_key="sk-test-not-a-real-key", max_retries=0
    )


def test_chat_plain(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Name a colour."}],
        max_tokens=12,
        temperature=0,
    )
    assert raw.headers["x-cogate-mode"] == "passthrough"
    assert raw.headers["x-cogate-audit-id"]
    answer = raw.parse()
    assert answer.choices[0].message.content.strip()
    assert answer.usage.completion_tokens > 0


def test_chat_streamed(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Count from one to five."}],
        max_tokens=24,
        temperature=0,
        stream=True,
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert len([p for p in pieces if p]) > 1  # many events, not one buffered blob
    assert "".join(pieces).strip()


def test_completions(client: openai.OpenAI) -> None:
    answer = client.completions.create(
        model="smollm2", prompt="The sky is", max_tokens=8, temperature=0
    )
    assert answer.choices[0].text


def test_embeddings(client: openai.OpenAI) -> None:
    answer = client.embeddings.create(model="smollm2", input="hello world")
    vector = answer.data[0].embedding
    # llama.cpp returns one vector per token for a model without a pooling layer.
    first = vector[0] if isinstance(vector[0], list) else vector
    assert len(first) > 10 and all(isinstance(x, float) for x in first)


def test_models(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()]


class GatedUpstream(http.server.ThreadingHTTPServer):
    """Sends one SSE event, then waits until the test says the client has seen it."""

    def __init__(self) -> None:
        self.first_seen = threading.Event()
        self.finished = threading.Event()
        super().__init__(("127.0.0.1", 0), _GatedHandler)


class _GatedHandler(http.server.BaseHTTPRequestHandler):
    server: GatedUpstream

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()

        def event(text: str) -> bytes:
            chunk = {
                "id": "g",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "g",
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
            }
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        self.wfile.write(event("first"))
        self.wfile.flush()
        # Only continue once the app has received the first event through the gateway.
        self.server.first_seen.wait(timeout=30)
        self.wfile.write(event(" second"))
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.server.finished.set()


def test_first_event_reaches_the_app_before_the_upstream_finishes(tmp_path: Path) -> None:
    upstream = GatedUpstream()
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    policy = tmp_path / "passthrough.yaml"
    policy.write_text("mode: passthrough\n")
    try:
        base = f"http://127.0.0.1:{upstream.server_address[1]}/v1"
        with cogate_server(tmp_path, base, args=["--policy", str(policy)]) as url:
            client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)
            stream = client.chat.completions.create(
                model="g", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            first = next(iter(stream))
            assert first.choices[0].delta.content == "first"
            assert not upstream.finished.is_set()  # the upstream is still holding its answer
            upstream.first_seen.set()
            rest = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            assert rest == " second"
    finally:
        upstream.first_seen.set()
        upstream.shutdown()
