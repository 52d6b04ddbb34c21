"""The gateway's HTTP behaviour against a scripted upstream (httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from .doubles import ListLedger, assembler

CHAT = {
    "model": "m",
    "messages": [{"role": "user", "content": "hi"}],
    "x_unknown": {"keep": [1, 2]},
}


def chat_answer(text: str = "hello") -> dict:
    return {
        "id": "c1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        "vendor_extra": True,
    }


class Upstream:
    """Records what reached it and answers like an OpenAI server."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": "m"}]})
        return httpx.Response(200, json=chat_answer(), headers={"x-request-id": "up-1"})


def gateway(upstream, ledger=None, stage=None, **settings) -> tuple[TestClient, ListLedger]:
    ledger = ledger or ListLedger()
    app = create_app(
        Settings(upstream="http://upstream.test/v1", **settings),
        assembler(upstream, ledger, stage),
    )
    # A local client that sends JSON, as SDKs do (the browser defences refuse anything else).
    headers = {"content-type": "application/json"}
    return TestClient(app, base_url="http://127.0.0.1", headers=headers), ledger


def test_chat_passes_through_unknown_fields_and_keeps_upstream_shape():
    upstream = Upstream()
    client, ledger = gateway(upstream)
    with client:
        response = client.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer sk-app"}
        )
    assert response.status_code == 200
    assert response.json() == chat_answer()
    assert response.headers["x-cogate-mode"] == "passthrough"
    assert response.headers["x-cogate-audit-id"] == "1"
    assert response.headers["x-request-id"] == "up-1"
    sent = upstream.requests[0]
    assert str(sent.url) == "http://upstream.test/v1/chat/completions"
    assert json.loads(sent.content) == CHAT
    assert sent.headers["authorization"] == "Bearer sk-app"
    # write-ahead: the egress entry holds exactly the bytes that left
    assert ledger.egress[0].body == sent.content
    assert ledger.completions[0].status == 200
    assert ledger.completions[0].usage == chat_answer()["usage"]


def test_configured_key_replaces_the_apps_authorization():
    upstream = Upstream()
    client, _ = gateway(upstream, upstream_api_key="sk-configured")
    with client:
        client.post("/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer sk-app"})
    assert upstream.requests[0].headers["authorization"] == "Bearer sk-configured"


def test_models_is_forwarded_as_get():
    upstream = Upstream()
    client, ledger = gateway(upstream)
    with client:
        response = client.get("/v1/models")
    assert response.json()["data"][0]["id"] == "m"
    assert upstream.requests[0].method == "GET"
    assert ledger.egress[0].method == "GET"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "empty"),
        (b'{"a":' * 100 + b"1" + b"}" * 100, "nested deeper"),
    ],
)
def test_bad_bodies_get_400_and_nothing_leaves(raw, fragment):
    upstream = Upstream()
    client, ledger = gateway(upstream)
    with client:
        response = client.post(
            "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
        )
        assert client.get("/cogate/health").status_code == 200
    assert response.status_code == 400
    error = response.json()["error"]
    assert fragment in error["message"]
    assert error["type"] == "invalid_request_error"
    assert upstream.requests == [] and ledger.egress == []


def test_body_over_the_limit_is_413():
    upstream = Upstream()
    client, _ = gateway(upstream, max_body_bytes=1000)
    with client:
        response = client.post("/v1/chat/completions", content=b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert upstream.requests == []


def test_unreachable_upstream_is_502_and_recorded():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, ledger = gateway(refuse)
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unreachable"
    assert ledger.completions[0].outcome == "unreachable"


def test_upstream_timeout_is_504():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client, ledger = gateway(slow)
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 504
    assert ledger.completions[0].outcome == "timeout"


def test_upstream_errors_reach_the_app_as_they_are():
    body = {"error": {"message": "bad model", "type": "invalid_request_error", "code": "x"}}

    def reject(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json=body)

    client, ledger = gateway(reject)
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 404
    assert response.json() == body
    assert ledger.completions[0].outcome == "upstream_error"


def test_a_failing_stage_refuses_and_forwards_nothing():
    def broken_detector(ex) -> None:
        raise RuntimeError("detector crashed on 'Alice Smith'")

    upstream = Upstream()
    client, ledger = gateway(upstream, stage=broken_detector)
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "pipeline_stage_failed"
    assert "detect" in error["message"] and "Alice" not in error["message"]
    assert upstream.requests == [] and ledger.egress == []


def test_ledger_failure_refuses_and_forwards_nothing():
    upstream = Upstream()
    ledger = ListLedger()
    ledger.fail = True
    client, _ = gateway(upstream, ledger=ledger)
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "audit_ledger_unavailable"
    assert upstream.requests == []


def test_token_is_required_when_configured_and_not_forwarded():
    upstream = Upstream()
    client, _ = gateway(upstream, token="s3cret")
    with client:
        refused = client.post("/v1/chat/completions", json=CHAT)
        accepted = client.post(
            "/v1/chat/completions", json=CHAT, headers={"x-cogate-token": "s3cret"}
        )
    assert refused.status_code == 401
    assert "x-cogate-token" in refused.json()["error"]["message"]
    assert accepted.status_code == 200
    assert len(upstream.requests) == 1
    assert "x-cogate-token" not in upstream.requests[0].headers


def test_unknown_mode_header_names_the_header():
    client, _ = gateway(Upstream())
    with client:
        response = client.post(
            "/v1/chat/completions", json=CHAT, headers={"x-cogate-mode": "loose"}
        )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-cogate-mode"


def test_unknown_route_is_openai_shaped_404():
    client, _ = gateway(Upstream())
    with client:
        response = client.post("/v1/nothing", json={})
    assert response.status_code == 404
    assert "error" in response.json()


def test_streams_are_relayed_event_by_event():
    events = [
        b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n',
        b'data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}\n\n',
        b"data: [DONE]\n\n",
    ]

    async def produce():
        for event in events:
            yield event

    def streaming(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=produce())

    client, ledger = gateway(streaming)
    with (
        client,
        client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response,
    ):
        received = list(response.iter_bytes())
        assert response.headers["x-cogate-mode"] == "passthrough"
        assert response.headers["content-type"].startswith("text/event-stream")
    assert b"".join(received) == b"".join(events)
    assert ledger.completions[0].outcome == "ok"


def test_a_stage_over_its_time_budget_refuses_and_forwards_nothing():
    import threading

    release = threading.Event()

    def stuck_detector(ex) -> None:
        release.wait(timeout=10)

    upstream = Upstream()
    client, ledger = gateway(upstream, stage=stuck_detector, stage_budget_s=0.2)
    try:
        with client:
            client.app.state  # noqa: B018 - app started by the context manager
            response = client.post("/v1/chat/completions", json=CHAT)
    finally:
        release.set()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "pipeline_stage_timeout"
    assert upstream.requests == [] and ledger.egress == []


def test_metrics_count_requests_without_content():
    client, _ = gateway(Upstream())
    with client:
        client.post("/v1/chat/completions", json=CHAT)
        client.post("/v1/chat/completions", content=b"{bad")
        text = client.get("/cogate/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    labels = (
        ("destination", "upstream"),
        ("identity", "personal"),
        ("mode", "passthrough"),
        ("status", "200"),
    )
    assert samples[("cogate_requests_total", labels)] == 1
    assert samples[("cogate_ledger_append_seconds_count", ())] == 2  # egress + completion
    assert samples[("cogate_added_latency_seconds_count", ())] == 1
    assert ("cogate_local_queue_depth", ()) in samples
    assert "hi" not in text.split()  # the message content appears nowhere


def test_metrics_need_the_token_when_one_is_set():
    client, _ = gateway(Upstream(), token="s3cret")
    with client:
        assert client.get("/cogate/metrics").status_code == 401
        assert (
            client.get("/cogate/metrics", headers={"x-cogate-token": "s3cret"}).status_code == 200
        )


def test_a_stream_broken_midway_ends_with_an_error_event():
    async def produce():
        yield b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
        raise httpx.RemoteProtocolError("peer closed connection")

    def streaming(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=produce())

    client, ledger = gateway(streaming)
    with client, client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as r:
        received = b"".join(r.iter_bytes())
    events = [e for e in received.split(b"\n\n") if e.strip()]
    assert events[0].startswith(b'data: {"choices"')
    error = json.loads(events[-1].removeprefix(b"data: "))["error"]
    assert error["code"] == "upstream_unreachable"
    assert ledger.completions[0].outcome == "stream_broken"


def test_garbage_from_the_upstream_is_a_clear_502_when_values_must_be_restored():
    def garbage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>oops", headers={"content-type": "text/html"})

    def finds_something(ex) -> None:
        from cogate.core.exchange import Finding

        ex.mode = "redact"
        ex.outbound = ex.raw
        ex.findings.append(Finding("PERSON", 0, 2, 0.9, "test"))

    client, _ = gateway(garbage, stage=finds_something)
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_bad_response"


def test_json_log_lines_carry_ids_not_content(capsys):
    import logging

    from cogate.proxy.logs import configure_logging

    configure_logging(Settings(log_json=True, log_level="debug"))
    client, ledger = gateway(Upstream())
    with client:
        response = client.post("/v1/chat/completions", json=CHAT, headers={"x-cogate-app": "notes"})
    logging.getLogger("cogate").handlers.clear()
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    request_lines = [line for line in lines if line["message"].startswith("request ")]
    assert request_lines, lines
    message = request_lines[0]["message"]
    assert ledger.egress[0].exchange_id in message
    assert f"audit={response.headers['x-cogate-audit-id']}" in message
    assert "hi" not in message.split()


def test_redact_without_a_sanitized_body_forwards_nothing():
    def forgets_to_sanitize(ex) -> None:
        ex.mode = "redact"  # a buggy stage: claims redact, produces no outbound body

    upstream = Upstream()
    client, ledger = gateway(upstream, stage=forgets_to_sanitize)
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "pipeline_no_sanitized_body"
    assert upstream.requests == [] and ledger.egress == []


def test_a_cookie_the_upstream_sets_never_reaches_another_request():
    seen: list[str | None] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        cookie = {"set-cookie": "session=alice-secret; Path=/"}
        return httpx.Response(200, json=chat_answer(), headers=cookie)

    client, _ = gateway(upstream)
    with client:
        for key in ("sk-alice", "sk-bob"):
            answer = client.post(
                "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {key}"}
            )
            assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert seen == [None, None]
