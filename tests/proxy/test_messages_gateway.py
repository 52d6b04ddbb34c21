"""The Messages routes in the gateway: upstream choice, credentials, ledger, refusals.

The upstream is an httpx.MockTransport (the unit-test seam); the whole pipeline, privacy
engine and ledger are real.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from cogate.proxy.intercept.secret import DESTINATION_HEADER, SECRET_HEADER, read_secret
from fastapi.testclient import TestClient

KEY = "sk-ant-api03-never-logged"
EMAIL = "jane.doe@example.com"
ANSWER = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "m",
    "content": [{"type": "text", "text": "Sure, [EMAIL_1]."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 2},
}
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


# A local client that sends JSON, as SDKs do (the browser defences refuse anything else).
JSON = {"content-type": "application/json"}


def body(**more: object) -> dict:
    return {
        "model": "m",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": f"Write to {EMAIL} please."}],
        **more,
    }


class Recorded:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("count_tokens"):
            return httpx.Response(200, json={"input_tokens": 7})
        return httpx.Response(200, json=ANSWER, headers={"request-id": "req_abc"})


def gateway(tmp_path: Path, policy: str = "mode: redact\n", **settings: object):
    upstream = Recorded()
    transport = httpx.MockTransport(upstream)
    (tmp_path / "policy.yaml").write_text(policy)
    config = Settings(data_dir=tmp_path / "data", policy=tmp_path / "policy.yaml", **settings)
    app = create_app(config, assemble=lambda s: assemble_pipeline(s, transport=transport))
    return app, upstream


@pytest.fixture(scope="module")
def started(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, Recorded, Path]]:
    tmp = tmp_path_factory.mktemp("messages")
    app, upstream = gateway(
        tmp, intercept_upstreams={"api.openai.com": "http://openai-relay.example/v1"}
    )
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        yield client, upstream, tmp / "data"


def test_direct_request_goes_to_the_anthropic_upstream_with_the_apps_headers(started) -> None:
    client, upstream, _ = started
    reply = client.post("/v1/messages?beta=true", json=body(), headers=HEADERS)
    assert reply.status_code == 200, reply.text
    sent = upstream.requests[-1]
    assert str(sent.url) == "https://api.anthropic.com/v1/messages?beta=true"
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in sent.headers
    assert EMAIL.encode() not in sent.content
    assert reply.json()["content"][0]["text"] == f"Sure, {EMAIL}."
    assert reply.headers["request-id"] == "req_abc"


def test_intercepted_anthropic_host_maps_to_this_surface(started) -> None:
    client, upstream, data_dir = started
    hint = {DESTINATION_HEADER: "api.anthropic.com", SECRET_HEADER: read_secret(data_dir)}
    reply = client.post("/v1/messages", json=body(), headers={**HEADERS, **hint})
    assert reply.status_code == 200, reply.text
    assert str(upstream.requests[-1].url) == "https://api.anthropic.com/v1/messages"


def test_key_never_reaches_logs_or_ledger_and_count_tokens_is_recorded(
    started, caplog: pytest.LogCaptureFixture
) -> None:
    client, upstream, data_dir = started
    caplog.set_level(logging.DEBUG, logger="cogate")  # third-party DEBUG is off in serve
    reply = client.post("/v1/messages/count_tokens", json=body(), headers=HEADERS)
    assert reply.json() == {"input_tokens": 7}
    assert EMAIL.encode() not in upstream.requests[-1].content  # the sanitized body is counted
    assert KEY not in caplog.text and EMAIL not in caplog.text
    (db,) = list(data_dir.rglob("ledger.sqlite3"))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT entry, body FROM entries").fetchall()
    dump = b"".join(entry.encode() + (stored or b"") for entry, stored in rows)
    assert KEY.encode() not in dump and EMAIL.encode() not in dump
    entries = [json.loads(entry) for entry, _ in rows]
    assert any("/v1/messages/count_tokens" in json.dumps(e) for e in entries)


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/v1/messages/batches", {"requests": []}, 404),
        ("/v1/messages", body(mystery_text="Jane"), 400),
        ("/v1/messages", {"model": "m", "messages": "hi"}, 400),
    ],
    ids=["batches", "unknown-field", "bad-messages"],
)
def test_refusals_send_nothing(started, path: str, payload: dict, status: int) -> None:
    client, upstream, _ = started
    before = len(upstream.requests)
    reply = client.post(path, json=payload, headers=HEADERS)
    assert reply.status_code == status
    assert reply.json()["error"]["message"]
    assert len(upstream.requests) == before


def test_passthrough_forwards_the_apps_exact_bytes(tmp_path: Path) -> None:
    app, upstream = gateway(tmp_path, policy="mode: passthrough\n")
    raw = b'{ "model":"m", "max_tokens" : 8, "messages":[{"role":"user","content":"h\\u00e9"}]}'
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        reply = client.post("/v1/messages", content=raw, headers=HEADERS)
    assert reply.status_code == 200
    assert upstream.requests[-1].content == raw


def test_sketch_asks_the_messages_upstream_for_an_outline_and_answers_in_its_shape(
    tmp_path: Path,
) -> None:
    app, upstream = gateway(tmp_path, policy="mode: sketch\n")
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        reply = client.post("/v1/messages", json=body(), headers=HEADERS)
    assert reply.status_code == 200 and reply.headers["x-cogate-mode"] == "sketch"
    answer = reply.json()
    assert answer["type"] == "message" and answer["content"][0]["type"] == "text"
    (outline,) = upstream.requests
    assert outline.url.path == "/v1/messages" and outline.headers["x-api-key"] == KEY
    sent = json.loads(outline.content)
    assert sent["messages"][0]["content"].startswith("Outline this writing task:")
    assert EMAIL not in outline.content.decode() and sent["model"] == "m"


def test_anthropic_upstream_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGATE_ANTHROPIC_UPSTREAM", "http://relay.example:8080/")
    assert Settings().anthropic_upstream == "http://relay.example:8080"
    with pytest.raises(ValueError, match="without /v1"):
        Settings(anthropic_upstream="https://api.anthropic.com/v1")


def test_streamed_request_error_passes_through_with_its_message_restored(tmp_path: Path) -> None:
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": "no [EMAIL_1]"}}

    def upstream(request: httpx.Request) -> httpx.Response:
        assert EMAIL.encode() not in request.content
        return httpx.Response(400, json=error, headers={"request-id": "req_e"})

    (tmp_path / "policy.yaml").write_text("mode: redact\n")
    config = Settings(data_dir=tmp_path / "data", policy=tmp_path / "policy.yaml")
    transport = httpx.MockTransport(upstream)
    app = create_app(config, assemble=lambda s: assemble_pipeline(s, transport=transport))
    with TestClient(app, base_url="http://127.0.0.1", headers=JSON) as client:
        reply = client.post("/v1/messages", json=body(stream=True), headers=HEADERS)
    assert reply.status_code == 400 and reply.headers["request-id"] == "req_e"
    assert reply.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": f"no {EMAIL}"},
    }
