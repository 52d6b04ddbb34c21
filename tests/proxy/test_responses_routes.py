"""Responses routes over a scripted upstream: methods, paths, refusals, transport."""
# ruff: noqa: E501  (one case per line)

from __future__ import annotations

import json

import httpx
import pytest
import zstandard
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from .doubles import ListLedger, assembler


class Upstream:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"id": "resp_1", "object": "response", "output": []})


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def client(upstream: Upstream):
    app = create_app(
        Settings(upstream="http://upstream.test/v1"), assembler(upstream, ListLedger())
    )
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        yield client


OPERATIONS = [
    ("POST", "/v1/responses", {"model": "m", "input": "hi"}),
    ("POST", "/v1/responses/compact", {"model": "m", "input": "hi"}),
    ("POST", "/v1/responses/input_tokens", {"model": "m", "input": "hi"}),
    ("GET", "/v1/responses/resp_1?include[]=x", None),
    ("GET", "/v1/responses/resp_1/input_items?limit=5&order=asc", None),
    ("DELETE", "/v1/responses/resp_1", None),
    ("POST", "/v1/responses/resp_1/cancel", None),
    ("POST", "/v1/conversations", {"items": [{"role": "user", "content": "hi"}]}),
    ("POST", "/v1/conversations/conv_1/items", {"items": []}),
    ("GET", "/v1/conversations/conv_1/items?after=item_1", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_each_operation_reaches_the_same_upstream_path(
    client, upstream, method, path, body
) -> None:
    answer = client.request(method, path, json=body)
    assert answer.status_code == 200, answer.text
    sent = upstream.requests[-1]
    assert sent.method == method
    assert str(sent.url).removeprefix("http://upstream.test/v1") == path.removeprefix("/v1")
    if body is not None:
        assert json.loads(sent.content) == body
    else:
        assert sent.content == b""


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/responses/resp_1/fork"),
        ("GET", "/v1/conversations/conv_1"),
        ("PUT", "/v1/responses"),
    ],
)
def test_other_paths_are_refused_unread(client, upstream, method, path) -> None:
    answer = client.request(method, path, json={"input": "x"})
    assert answer.status_code in (404, 405)
    assert upstream.requests == []


# A local client that sends JSON, as SDKs do (the browser defences refuse anything else).
JSON = {"content-type": "application/json"}


def test_zstd_body_is_decoded_before_forwarding(client, upstream) -> None:
    body = json.dumps({"model": "m", "input": "hi"}).encode()
    answer = client.post(
        "/v1/responses",
        content=zstandard.ZstdCompressor().compress(body),
        headers={"content-encoding": "zstd", "content-type": "application/json"},
    )
    assert answer.status_code == 200
    assert json.loads(upstream.requests[0].content) == {"model": "m", "input": "hi"}
    assert "content-encoding" not in upstream.requests[0].headers


def test_decoded_size_limit(upstream) -> None:
    app = create_app(
        Settings(upstream="http://upstream.test/v1", max_body_bytes=1000),
        assembler(upstream, ListLedger()),
    )
    bomb = zstandard.ZstdCompressor().compress(b'{"input": "' + b"a" * 100_000 + b'"}')
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        answer = client.post("/v1/responses", content=bomb, headers={"content-encoding": "zstd"})
    assert answer.status_code == 413 and upstream.requests == []


def test_websocket_upgrade_is_426(client, upstream) -> None:
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect("/v1/responses"),
    ):
        pass
    assert refused.value.status_code == 426
    assert upstream.requests == []


def restoring_stage(ex) -> None:
    """A redact stage whose vault already knows one value (the engine itself is tested elsewhere)."""
    from cogate.core.exchange import Finding
    from cogate.policies.restore import VaultRestorer as Restorer
    from cogate.policies.vault.memory import Vault

    vault = Vault()
    vault.pseudonym("EMAIL_ADDRESS", "jane@example.com")
    ex.outbound, ex.restorer = ex.raw, Restorer(vault)
    ex.findings.append(Finding("EMAIL_ADDRESS", 0, 0, 1.0, "test"))  # something was replaced


def sse_answer(request: httpx.Request) -> httpx.Response:
    where = {"item_id": "m1", "output_index": 0, "content_index": 0}
    events = [
        {"type": "response.output_text.delta", **where, "delta": "to [EMA"},
        {"type": "response.output_text.delta", **where, "delta": "IL_1]"},
        {"type": "response.output_text.done", **where, "text": "to [EMAIL_1]"},
    ]
    raw = "".join(
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': i})}\n\n"
        for i, e in enumerate(events)
    )
    return httpx.Response(200, content=raw.encode(), headers={"content-type": "text/event-stream"})


def test_streams_and_errors_are_restored_in_redact_mode() -> None:
    from cogate.core import sse

    def upstream(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("stream"):
            return sse_answer(request)
        error = {"error": {"message": "bad value [EMAIL_1]", "type": "invalid_request_error"}}
        return httpx.Response(400, json=error)

    app = create_app(
        Settings(upstream="http://upstream.test/v1"),
        assembler(upstream, ListLedger(), restoring_stage),
    )
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        refused = client.post("/v1/responses", json={"input": "x"})
        streamed = client.post("/v1/responses", json={"input": "x", "stream": True})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "bad value jane@example.com"
    events = streamed.text.strip().split("\n\n")
    names = [sse.event_name(e.encode()) for e in events]
    data = [json.loads(e.split("data: ", 1)[1]) for e in events]
    assert names == [d["type"] for d in data] and [d["sequence_number"] for d in data] == [0, 1, 2]
    assert "".join(d["delta"] for d in data[:2]) == data[2]["text"] == "to jane@example.com"


def test_retrieve_streams_when_its_query_asks_and_restores() -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return sse_answer(request)

    app = create_app(
        Settings(upstream="http://upstream.test/v1"),
        assembler(upstream, ListLedger(), restoring_stage),
    )
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        answer = client.get("/v1/responses/resp_1?stream=true&starting_after=2")
    assert seen[0].url.path == "/v1/responses/resp_1" and seen[0].content == b""
    assert seen[0].url.params["starting_after"] == "2"
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert "to jane@example.com" in answer.text and "[EMAIL_1]" not in answer.text


class BreakingStream(httpx.AsyncByteStream):
    """One event, then the connection breaks."""

    async def __aiter__(self):
        where = {"item_id": "m1", "output_index": 0, "content_index": 0, "sequence_number": 0}
        event = {"type": "response.output_text.delta", **where, "delta": "to [EMAIL_1]"}
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
        raise httpx.ReadError("connection reset")


def test_a_broken_stream_ends_with_an_error_event_the_sdk_raises() -> None:
    import openai
    from cogate.core import sse

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, stream=BreakingStream(), headers={"content-type": "text/event-stream"}
        )

    app = create_app(
        Settings(upstream="http://upstream.test/v1"),
        assembler(upstream, ListLedger(), restoring_stage),
    )
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        streamed = client.post("/v1/responses", json={"input": "x", "stream": True})
        sdk = openai.OpenAI(base_url="http://127.0.0.1/v1", api_key="k", http_client=client)
        seen = []
        with pytest.raises(openai.APIError, match="broke mid-stream"):
            for event in sdk.responses.create(model="m", input="x", stream=True):
                seen.append(event)
    events = [e for e in streamed.text.strip().split("\n\n") if e.strip()]
    assert "to jane@example.com" in events[0]
    last = sse.event_data(events[-1].encode())
    assert sse.event_name(events[-1].encode()) == "error"
    assert last["type"] == "error" and "broke mid-stream" in last["message"]
    assert [e.delta for e in seen] == ["to jane@example.com"]  # restored before the break


@pytest.mark.parametrize(
    "query", ["after=jane.doe%40example.com", "order=Jane%20Doe", "Jane%20Doe=1"]
)
def test_free_text_in_a_query_is_refused_unsent(client, upstream, query: str) -> None:
    answer = client.get(f"/v1/responses/resp_1/input_items?{query}")
    assert answer.status_code == 400
    assert "jane" not in answer.text.lower() and upstream.requests == []


def test_the_ledger_records_the_query_that_left(upstream) -> None:
    ledger = ListLedger()
    app = create_app(Settings(upstream="http://upstream.test/v1"), assembler(upstream, ledger))
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        client.get("/v1/responses/resp_1/input_items?limit=5&order=asc")
    assert ledger.egress[0].destination_path == "/v1/responses/resp_1/input_items?limit=5&order=asc"
