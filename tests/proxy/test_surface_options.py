"""The seam's optional members and what the forward runner does for every surface: headers a
surface forwards as sent, the query string, error bodies restored, untouched stream events
relayed byte for byte, a surface's own answer bytes and its own stream error event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from cogate.core.exchange import Exchange, Finding
from cogate.core.settings import Settings
from cogate.core.surface import (
    Held,
    Operation,
    Scanner,
    SSEEvent,
    TextRestore,
    cloud_request,
    cloud_text,
    forward_headers,
    restore_bytes,
    stream_error,
)
from cogate.core.wire import encode_json
from cogate.policies.restore import VaultRestorer as Restorer
from cogate.policies.vault.memory import Vault
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from cogate.proxy.egress.gate import EgressGate
from cogate.proxy.pipeline import Pipeline
from cogate.proxy.surfaces import SURFACES
from cogate.proxy.surfaces.anthropic_messages import SURFACE as MESSAGES
from cogate.proxy.surfaces.chat import SURFACE as CHAT
from cogate.proxy.surfaces.openai import OpenAISurface
from fastapi.testclient import TestClient

from .doubles import ListLedger, StagePrivacy

SECRET = "Jane Roe"


class Passing:
    """An event restorer that hands every event on as it came."""

    def feed(self, event: SSEEvent) -> list[SSEEvent]:
        return [event]

    def finish(self) -> list[SSEEvent]:
        return []


class Echo(OpenAISurface):
    """A made-up API with its own credentials header, answer bytes and stream error event."""

    name = "test.echo"
    upstream = "anthropic"
    strip_prefix = ""
    operations = (Operation("POST", "/v1/echo", "echo.create"),)
    forward_headers = ("x-api-key", "echo-version")

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        return encode_json(body)

    def restore_bytes(self, op: str, content: bytes, text: TextRestore) -> bytes:
        return b"echo:" + text.restore(content.decode()).encode()

    def stream_restorer(self, op: str, held: Held, text: TextRestore) -> Passing:
        return Passing()

    def stream_error(self, op: str, error: dict[str, Any]) -> SSEEvent:
        return SSEEvent("error", {"kind": "echo", "message": error["error"]["message"]})


def redacting(ex: Exchange) -> None:
    """The privacy stage as redact mode leaves it: SECRET replaced, its restorer set."""
    vault = Vault()
    placeholder = vault.pseudonym("PERSON", SECRET)
    ex.mode = "redact"
    ex.outbound = ex.raw.replace(SECRET.encode(), placeholder.encode())
    ex.findings.append(Finding("PERSON", 0, len(SECRET), 0.9, "test"))
    ex.restorer = Restorer(vault)


def assemble(
    handler: Callable[[httpx.Request], httpx.Response],
) -> Callable[[Settings], AbstractAsyncContextManager[Pipeline]]:
    transport = httpx.MockTransport(handler)
    privacy = StagePrivacy(redacting)
    return lambda s: assemble_pipeline(s, transport=transport, ledger=ListLedger(), privacy=privacy)


def client_for(handler: Callable[[httpx.Request], httpx.Response], **settings: Any) -> TestClient:
    config = Settings(anthropic_upstream="http://echo.test", **settings)
    app = create_app(config, assemble(handler), [*SURFACES, Echo()])
    return TestClient(
        app, base_url="http://127.0.0.1", headers={"content-type": "application/json"}
    )


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}], **extra}


def test_defaults_for_a_surface_that_declares_none() -> None:
    class Same:
        def restore(self, text: str, *, json_escape: bool = False) -> str:
            return text

    assert forward_headers(CHAT) is None and forward_headers(Echo()) == Echo.forward_headers
    spaced = b'{ "choices" : [] }'
    assert restore_bytes(CHAT, "chat.completions.create", spaced, Same()) == spaced
    assert stream_error(CHAT, "chat.completions.create", {"error": {"message": "x"}}) == SSEEvent(
        None, {"error": {"message": "x"}}
    )


def test_forwarded_headers_go_as_sent_and_the_upstream_key_stays_with_the_others() -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    headers = {"x-api-key": "app-key", "echo-version": "7", "authorization": "Bearer app"}
    with client_for(upstream, upstream_api_key="sk-configured") as client:
        client.post("/v1/echo?beta=true", json={"text": "hi"}, headers=headers)
        client.post("/v1/chat/completions", json=chat("hi"), headers=headers)
    echo, openai = seen
    assert str(echo.url) == "http://echo.test/v1/echo?beta=true"
    assert echo.headers["x-api-key"] == "app-key" and echo.headers["echo-version"] == "7"
    assert "authorization" not in echo.headers  # neither the app's nor the configured key
    assert openai.headers["authorization"] == "Bearer sk-configured"
    assert "x-api-key" not in openai.headers


def test_an_error_body_comes_back_with_the_apps_values() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)["messages"][0]["content"]
        assert SECRET not in sent
        if "plain" in sent:
            return httpx.Response(502, content=f"bad gateway for {sent}".encode())
        error = {"error": {"message": f"cannot answer {sent}", "type": "invalid_request_error"}}
        return httpx.Response(400, json=error)

    with client_for(upstream) as client:
        refused = client.post("/v1/chat/completions", json=chat(f"about {SECRET}"))
        plain = client.post("/v1/chat/completions", json=chat(f"plain {SECRET}"))
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == f"cannot answer about {SECRET}"
    assert plain.status_code == 502 and plain.text.startswith("bad gateway for plain [")


def test_a_surface_restores_its_own_answer_bytes() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.loads(request.content)["text"].encode())

    with client_for(upstream) as client:
        reply = client.post("/v1/echo", json={"text": f"hello {SECRET}"})
    assert reply.content == f"echo:hello {SECRET}".encode()


class Broken(httpx.AsyncByteStream):
    """An event stream whose connection breaks after its first event."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset")


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut"])
def test_untouched_events_keep_their_bytes_and_a_cut_ends_with_the_surfaces_error(
    cut: bool,
) -> None:
    event = b'event: note\ndata:  { "n" : 1, "t" : "\\u00e9" }\n\n'

    def upstream(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream"}
        if cut:
            return httpx.Response(200, headers=headers, stream=Broken(event))
        return httpx.Response(200, headers=headers, content=event + event)

    with client_for(upstream) as client:
        reply = client.post("/v1/echo", json={"text": SECRET, "stream": True})
    if not cut:
        assert reply.content == event + event
        return
    assert reply.content.startswith(event)
    last = reply.content.strip().split(b"\n\n")[-1]
    assert last.startswith(b"event: error\ndata: ")
    assert json.loads(last.split(b"data: ", 1)[1])["kind"] == "echo"


@pytest.mark.anyio
async def test_a_call_in_another_api_family_never_carries_the_apps_credentials() -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    settings = Settings(
        upstream="http://openai.test/v1",
        anthropic_upstream="http://claude.test",
        upstream_api_key="sk-configured",
        intercept_upstreams={"api.anthropic.com": "http://intercepted.test"},
    )
    ex = Exchange(
        route="v1/messages",
        body={"model": "m"},
        surface=MESSAGES,
        op="messages.create",
        authorization="Bearer app-oauth",
        upstream_headers={"x-api-key": "app-key", "anthropic-version": "2023-06-01"},
        destination_host="api.anthropic.com",
    )
    ledger = ListLedger()
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
        gate = EgressGate(settings, client, ledger)
        await gate.send(ex, "v1/messages", {"model": "m"})
        await gate.send(ex, "completions", {"prompt": "p"}, api="openai")
        await gate.drain()
    own, drafts = seen
    assert str(own.url) == "http://intercepted.test/v1/messages"
    assert own.headers["x-api-key"] == "app-key" and "authorization" not in own.headers
    assert str(drafts.url) == "http://openai.test/v1/completions"
    assert drafts.headers["authorization"] == "Bearer sk-configured"
    assert "x-api-key" not in drafts.headers and "anthropic-version" not in drafts.headers
    assert [r.destination_host for r in ledger.egress] == ["api.anthropic.com", "openai.test"]


def test_messages_asks_its_own_cloud_in_messages_shape() -> None:
    route, body = cloud_request(MESSAGES, "messages.create", "claude-x", "Plan.", "Outline: t", 64)
    assert route == "v1/messages" and body["system"] == "Plan." and body["max_tokens"] == 64
    assert body["messages"] == [{"role": "user", "content": "Outline: t"}]
    answer = {"content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "- a"}]}
    assert cloud_text(MESSAGES, "messages.create", answer) == "- a"
    with pytest.raises(ValueError):
        cloud_text(MESSAGES, "messages.create", {"content": []})
    route, body = cloud_request(CHAT, "chat.completions.create", None, "Plan.", "Outline: t", 64)
    assert route == "chat/completions" and body["messages"][0] == {
        "role": "system",
        "content": "Plan.",
    }
    chat_answer = {"choices": [{"message": {"content": "- b"}}]}
    assert cloud_text(CHAT, "chat.completions.create", chat_answer) == "- b"
