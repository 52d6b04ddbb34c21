"""schemathesis against the gateway's own OpenAPI schema, through the real pipeline (policy,
Presidio, ledger) and a scripted upstream: no 5xx, every error OpenAI-shaped, declared
responses as declared.

The routes read raw JSON (no pydantic body models), so the schema says nothing about
bodies; `BODIES` describes the OpenAI requests and schemathesis generates from it, both
conforming bodies and (negative mode) bodies that break it.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

PLACEHOLDER = re.compile(rb"\[[A-Z_]+_\d+\]")
# Texts with something to redact, so the placeholder → restore path runs too.
PRIVATE = [
    "Email jane.doe@example.com about the Paris trip",
    "Call Jane Doe on +44 20 7946 0958",
    "My card is 4111 1111 1111 1111",
    "<private>secret plans</private> and John Smith",
]
TEXT = {"anyOf": [{"type": "string", "maxLength": 60}, {"enum": PRIVATE}]}
MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"enum": ["system", "developer", "user", "assistant"]},
        "content": {
            "anyOf": [
                TEXT,
                {
                    "type": "array",
                    "maxItems": 2,
                    "items": {
                        "type": "object",
                        "required": ["type", "text"],
                        "properties": {"type": {"enum": ["text"]}, "text": TEXT},
                    },
                },
            ]
        },
        "name": {"type": "string", "maxLength": 10},
    },
}
TEXT_OR_TOKENS = {
    "anyOf": [
        TEXT,
        {"type": "array", "maxItems": 3, "items": TEXT},
        {"type": "array", "maxItems": 4, "items": {"type": "integer"}},
    ]
}
COMMON = {"model": {"type": "string", "maxLength": 20}, "stream": {"type": "boolean"}}
BODIES = {
    "/v1/chat/completions": {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            **COMMON,
            "messages": {"type": "array", "minItems": 1, "maxItems": 3, "items": MESSAGE},
        },
    },
    "/v1/completions": {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {**COMMON, "prompt": TEXT_OR_TOKENS},
    },
    "/v1/embeddings": {
        "type": "object",
        "required": ["model", "input"],
        "properties": {"model": COMMON["model"], "input": TEXT_OR_TOKENS},
    },
}


def upstream(request: httpx.Request) -> httpx.Response:
    """A well-behaved OpenAI upstream that echoes the first placeholder it was sent."""
    if request.url.path.endswith("/models"):
        return httpx.Response(200, json={"object": "list", "data": [{"id": "m"}]})
    sent = json.loads(request.content)
    found = PLACEHOLDER.search(request.content)
    echo = f"about {found.group().decode() if found else 'that'}."
    if request.url.path.endswith("/embeddings"):
        return httpx.Response(200, json={"object": "list", "data": [{"embedding": [0.1]}]})
    if sent.get("stream"):
        pieces = [echo[:7], echo[7:]]
        events = [
            {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            for piece in pieces
        ] + [{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
        raw = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
        return httpx.Response(
            200, content=raw + b"data: [DONE]\n\n", headers={"content-type": "text/event-stream"}
        )
    return httpx.Response(
        200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": echo}}]}
    )


def with_bodies(openapi: dict) -> dict:
    spec = copy.deepcopy(openapi)
    for path, body in BODIES.items():
        spec["paths"][path]["post"]["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return spec


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("data")
    app = create_app(
        Settings(upstream="http://upstream.test/v1", data_dir=data_dir),
        functools.partial(assemble_pipeline, transport=httpx.MockTransport(upstream)),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _schema() -> schemathesis.BaseSchema:
    app = create_app(Settings(upstream="http://upstream.test/v1", data_dir=Path("/nonexistent")))
    return schemathesis.openapi.from_dict(with_bodies(app.openapi()))


SCHEMA = _schema()
OPERATIONS = [
    (path, method.upper()) for path, item in SCHEMA.raw_schema["paths"].items() for method in item
]
CASES = st.one_of(
    [SCHEMA[path][method].as_strategy() for path, method in OPERATIONS]
    + [SCHEMA[path]["POST"].as_strategy(generation_mode=GenerationMode.NEGATIVE) for path in BODIES]
)


def send(client: TestClient, case) -> httpx.Response:
    if case.body is NOT_SET:
        content = None
    elif isinstance(case.body, bytes):  # negative mode: a body that is not JSON at all
        content = case.body
    else:
        content = json.dumps(case.body).encode()
    headers = {**(case.headers or {})}
    if content is not None:
        headers.setdefault("content-type", "application/json")
    return client.request(
        case.method, case.formatted_path, params=case.query, headers=headers, content=content
    )


def assert_openai_error(response: httpx.Response) -> None:
    error = response.json()["error"]
    assert isinstance(error, dict), response.text
    assert {"message", "type", "code"} <= set(error), response.text
    assert isinstance(error["message"], str) and error["message"], response.text
    assert isinstance(error["type"], str) and isinstance(error["code"], str), response.text


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=CASES)
def test_gateway_conforms_to_its_schema(gateway: TestClient, case) -> None:
    response = send(gateway, case)
    event(f"{case.method} {case.path} -> {response.status_code}")
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    if response.status_code >= 400:
        assert_openai_error(response)
    assert gateway.get("/cogate/health").status_code == 200


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_unknown_methods_and_paths_get_openai_errors(gateway: TestClient, path, method) -> None:
    other = "DELETE" if method == "POST" else "PUT"
    response = gateway.request(other, path)
    assert response.status_code == 405
    assert_openai_error(response)
    response = gateway.request(method, path + "/nope")
    assert response.status_code == 404
    assert_openai_error(response)


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/cogate/metrics", "GET", NOT_SET),
        (
            "/v1/chat/completions",
            "POST",
            {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        ),
    ],
    ids=["metrics", "stream"],
)
def test_declared_content_types(gateway: TestClient, path, method, body) -> None:
    case = SCHEMA[path][method].Case(body=body, media_type="application/json")
    response = send(gateway, case)
    assert response.status_code == 200
    case.validate_response(response, checks=[content_type_conformance])


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"model":"m","messages":[{"role":{},"content":"hi"}]}', id="role-object"),
        pytest.param(b'{"model":"m","messages":[{"role":[],"content":"hi"}]}', id="role-list"),
        pytest.param(
            b'{"model":"m","messages":[{"role":"user","content":"hi \\ud800"}]}',
            id="lone-surrogate-content",
        ),
        pytest.param(
            b'{"model":"\\ud800","messages":[{"role":"user","content":"hi"}]}',
            id="lone-surrogate-model",
        ),
    ],
)
def test_known_bad_input_is_a_4xx(gateway: TestClient, raw: bytes) -> None:
    response = gateway.post(
        "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert_openai_error(response)
