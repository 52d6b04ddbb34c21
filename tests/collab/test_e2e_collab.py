"""openai SDK → `cogate serve` (sketch and local modes) → a recording proxy → llama.cpp.

The recording proxy sits where the cloud would be and keeps every request body that
reached it, so the tests can prove that no private-context item left the device.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import httpx
import openai
import pytest
from cogate.collab.cogenesis import (
    leaks,
    load_samples,
    payload_texts,
    private_items,
    request_messages,
)

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e


class Recorder(http.server.ThreadingHTTPServer):
    """Forwards to `upstream` and keeps each request's path and body."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.seen: list[tuple[str, bytes]] = []
        super().__init__(("127.0.0.1", 0), _RecordingHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: object) -> None:
        pass

    def _forward(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.seen.append((self.path, body))
        path = self.path.removeprefix("/v1")
        with httpx.Client(trust_env=False, timeout=900) as client:
            answer = client.request(
                method,
                self.server.upstream + path,
                content=body or None,
                headers={"content-type": "application/json"},
            )
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers.get("content-type", "application/json"))
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def do_POST(self) -> None:
        self._forward("POST")

    def do_GET(self) -> None:
        self._forward("GET")


@pytest.fixture(scope="module")
def recorder(llama_upstream: str) -> Iterator[Recorder]:
    server = Recorder(llama_upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def gateway(recorder: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("collab-gateway")
    policy = work / "sketch.yaml"
    policy.write_text("mode: sketch\n")
    with cogate_server(
        work, recorder.url, args=["--policy", str(policy)], env={"COGATE_LOCAL_THREADS": "1"}
    ) as url:
        yield url


@pytest.fixture
def client(gateway: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway, api_key="sk-test-not-a-real-key", max_retries=0, timeout=600
    )


def assert_nothing_private_left(bodies: list[bytes], sample: dict) -> None:
    items = private_items(sample)
    texts = [text for body in bodies for text in payload_texts(body)]
    found = leaks(items, texts)
    for key in ("name_full", "name_first", "name_last", "city", "quoted"):
        assert found[key][0] == 0, key
    # every outbound text is the outline prompt around the reduced task, nothing more
    for body in bodies:
        assert "Writing History" not in body.decode() and "Privacy_info" not in body.decode()
        assert "Content:" not in body.decode()


@pytest.mark.parametrize("layout", ["sections", "system"])
def test_sketch_plain(client: openai.OpenAI, recorder: Recorder, data_dir, layout: str) -> None:
    sample = load_samples(data_dir, 3)[2]
    before = len(recorder.seen)
    raw = client.chat.completions.with_raw_response.create(
        model="smollm2",
        messages=request_messages(sample, layout, history=1),
        max_tokens=24,
        temperature=0,
    )
    assert raw.headers["x-cogate-mode"] == "sketch"
    assert raw.headers["x-cogate-audit-id"]
    answer = raw.parse()
    assert answer.choices[0].message.content.strip()
    assert answer.usage.prompt_tokens > 300  # the local model read the private context
    bodies = [body for path, body in recorder.seen[before:]]
    assert len(bodies) == 1 and recorder.seen[before][0] == "/v1/chat/completions"
    assert_nothing_private_left(bodies, sample)


def test_sketch_streamed(client: openai.OpenAI, recorder: Recorder, data_dir) -> None:
    sample = load_samples(data_dir, 1)[0]
    before = len(recorder.seen)
    stream = client.chat.completions.create(
        model="smollm2",
        messages=request_messages(sample, history=1),
        max_tokens=24,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    usage = chunks[-1].usage
    assert usage is not None and 0 < usage.completion_tokens <= 24
    assert_nothing_private_left([body for _, body in recorder.seen[before:]], sample)


def test_local_mode_sends_nothing(client: openai.OpenAI, recorder: Recorder, data_dir) -> None:
    sample = load_samples(data_dir, 2)[1]
    before = len(recorder.seen)
    raw = client.chat.completions.with_raw_response.create(
        model="smollm2",
        messages=request_messages(sample, history=1),
        max_tokens=16,
        temperature=0,
        extra_headers={"x-cogate-mode": "local"},
    )
    assert raw.headers["x-cogate-mode"] == "local"
    assert raw.parse().choices[0].message.content.strip()
    stream = client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Say hi."}],
        max_tokens=8,
        stream=True,
        extra_headers={"x-cogate-mode": "local"},
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).strip()
    assert recorder.seen[before:] == []


def test_loosening_the_mode_is_ignored(client: openai.OpenAI, recorder: Recorder) -> None:
    before = len(recorder.seen)
    raw = client.chat.completions.with_raw_response.create(
        model="smollm2",
        messages=[
            {"role": "system", "content": "I am Ana from Porto."},
            {"role": "user", "content": "Write a greeting: for my team."},
        ],
        max_tokens=8,
        temperature=0,
        extra_headers={"x-cogate-mode": "passthrough"},
    )
    assert raw.headers["x-cogate-mode"] == "sketch"
    sent = b"".join(body for _, body in recorder.seen[before:])
    assert b"Ana" not in sent and b"Porto" not in sent
    assert json.loads(recorder.seen[before][1])["messages"][1]["content"].endswith(
        "Write a greeting"
    )
