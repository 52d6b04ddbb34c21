"""Bad input through the real pipeline (policy, Presidio, ledger): a clear error naming the
field, nothing forwarded, and a healthy gateway afterwards."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FORWARDED: list[httpx.Request] = []


def upstream(request: httpx.Request) -> httpx.Response:
    FORWARDED.append(request)
    return httpx.Response(
        200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("data")
    app = create_app(
        Settings(upstream="http://upstream.test/v1", data_dir=data_dir),
        functools.partial(assemble_pipeline, transport=httpx.MockTransport(upstream)),
    )
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def nothing_forwarded_yet() -> None:
    FORWARDED.clear()


def chat(**fields: object) -> dict:
    return {"model": "m", **fields}


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (chat(messages="hello"), (400, 422), "messages"),
        (chat(messages=[{"role": "user", "content": {"weird": True}}]), (400, 422), "content"),
        (chat(messages=[{"role": "user", "content": 42}]), (400, 422), "content"),
        (
            chat(
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "what is this?"},
                            {
                                "type": "image_url",
                                "image_url": {"url": "data:image/png;base64,AA=="},
                            },
                        ],
                    }
                ]
            ),
            (400, 403, 422),
            "image",
        ),
        (
            chat(
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "input_audio",
                                "input_audio": {"data": "AA==", "format": "wav"},
                            }
                        ],
                    }
                ]
            ),
            (400, 403, 422),
            "audio",
        ),
        ({"model": "m", "prompt": [[1, 2, 3]]}, (400, 403, 422), "token"),
    ],
)
def test_bad_or_unscannable_content_is_refused_naming_it(client, body, status, names) -> None:
    route = "/v1/completions" if "prompt" in body else "/v1/chat/completions"
    response = client.post(route, json=body)
    assert response.status_code in status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code"}
    assert names in error["message"].lower()
    assert FORWARDED == []
    assert client.get("/cogate/health").status_code == 200


def test_overlong_header_is_refused(client) -> None:
    response = client.post(
        "/v1/chat/completions",
        json=chat(messages=[{"role": "user", "content": "hi"}]),
        headers={"x-cogate-app": "a" * 5000},
    )
    assert response.status_code == 400
    assert "x-cogate-app" in response.json()["error"]["message"]
    assert FORWARDED == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "model": JSON,
        "messages": JSON,
        "prompt": JSON,
        "input": JSON,
        "tools": JSON,
        "stream": JSON,
        "user": JSON,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=FIELDS, route=st.sampled_from(["chat/completions", "completions", "embeddings"]))
def test_random_bodies_never_crash_the_gateway(client, body, route) -> None:
    response = client.post(f"/v1/{route}", content=json.dumps(body))
    # Any outcome but a crash: forwarded (2xx), refused as bad input or by policy (4xx).
    assert response.status_code < 500, response.text
    assert "error" in response.json() or response.status_code == 200
