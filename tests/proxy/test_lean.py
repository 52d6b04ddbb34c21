"""The lean path: proxied routes without path parameters skip FastAPI's router, keep every
check (browser guard, body checks, OpenAI-shaped refusals), and everything else reaches
FastAPI as before."""

from __future__ import annotations

import httpx
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from fastapi.testclient import TestClient

from .doubles import ListLedger, assembler
from .test_gateway import CHAT, Upstream

JSON = {"content-type": "application/json"}


def gateway() -> tuple[TestClient, list[str], Upstream, ListLedger]:
    """A gateway whose FastAPI router records the HTTP paths it was asked to serve."""
    upstream, ledger = Upstream(), ListLedger()
    app = create_app(Settings(upstream="http://upstream.test/v1"), assembler(upstream, ledger))
    routed: list[str] = []
    router = app.router

    class RecordingRouter:
        def __getattr__(self, name: str):
            return getattr(router, name)

        async def __call__(self, scope, receive, send) -> None:
            if scope["type"] == "http":
                routed.append(scope["path"])
            await router(scope, receive, send)

    app.router = RecordingRouter()  # the middleware stack is built on the first request
    return TestClient(app, base_url="http://127.0.0.1"), routed, upstream, ledger


def test_proxied_routes_are_served_without_the_router_and_still_audited():
    client, routed, upstream, ledger = gateway()
    with client:
        chat = client.post("/v1/chat/completions", json=CHAT, headers=JSON)
        stream = client.post("/v1/responses", json={"model": "m", "input": "hi"}, headers=JSON)
    assert chat.status_code == 200 and chat.headers["x-cogate-audit-id"] == "1"
    assert stream.status_code == 200
    assert routed == []
    assert [r.url.path for r in upstream.requests] == ["/v1/chat/completions", "/v1/responses"]
    assert ledger.egress[0].body == upstream.requests[0].content


def test_the_browser_guard_still_refuses_before_the_lean_path():
    client, routed, upstream, _ = gateway()
    with client:
        foreign = client.post(
            "/v1/chat/completions", json=CHAT, headers={**JSON, "origin": "https://evil.test"}
        )
        form = client.post(
            "/v1/chat/completions", content=b"a=b", headers={"content-type": "text/plain"}
        )
        rebound = client.post(
            "/v1/chat/completions", json=CHAT, headers={**JSON, "host": "evil.test"}
        )
    assert [foreign.status_code, form.status_code, rebound.status_code] == [403, 415, 421]
    assert foreign.json()["error"]["code"] == "origin_not_allowed"
    assert upstream.requests == [] and routed == []


def test_refusals_on_the_lean_path_are_openai_shaped():
    client, routed, upstream, ledger = gateway()
    with client:
        broken = client.post("/v1/chat/completions", content=b"{", headers=JSON)
        shape = client.post(
            "/v1/chat/completions", json={"model": "m", "messages": "hi"}, headers=JSON
        )
        mode = client.post(
            "/v1/chat/completions", json=CHAT, headers={**JSON, "x-cogate-mode": "loose"}
        )
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]["message"]
    assert shape.status_code == 400 and shape.json()["error"]["param"] == "messages"
    assert mode.status_code == 400 and mode.json()["error"]["param"] == "x-cogate-mode"
    assert upstream.requests == [] and ledger.egress == [] and routed == []


def test_other_routes_reach_fastapi():
    client, routed, upstream, _ = gateway()
    with client:
        retrieve = client.get("/v1/responses/resp_1")
        unknown = client.post("/v1/nowhere", json={}, headers=JSON)
        slash = client.post("/v1/chat/completions/", json=CHAT, headers=JSON)
        health = client.get("/cogate/health")
    assert retrieve.status_code == 200
    assert [r.url.path for r in upstream.requests] == ["/v1/responses/resp_1"]
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert slash.status_code == 404
    assert health.json()["status"] == "ok"
    assert routed == [
        "/v1/responses/resp_1",
        "/v1/nowhere",
        "/v1/chat/completions/",
        "/cogate/health",
    ]


def test_a_client_error_from_the_upstream_is_relayed_on_the_lean_path():
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": {"message": "slow down", "type": "rate"}})

    ledger = ListLedger()
    app = create_app(Settings(upstream="http://upstream.test/v1"), assembler(refuse, ledger))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        answer = client.post("/v1/chat/completions", json=CHAT, headers=JSON)
    assert answer.status_code == 429 and answer.json()["error"]["message"] == "slow down"
    assert ledger.egress and ledger.completions[0].status == 429
