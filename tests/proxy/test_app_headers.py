"""The app's own headers go upstream held to their shapes; anything else is refused."""

from __future__ import annotations

import pytest
from cogate.core.app_headers import app_headers
from cogate.core.errors import BadRequest

from .test_gateway import CHAT, Upstream, gateway


def test_shaped_headers_reach_the_upstream_and_others_do_not() -> None:
    upstream = Upstream()
    client, _ = gateway(upstream)
    sent = {
        "openai-organization": "org-Acme123",
        "openai-project": "proj_Billing42",
        "openai-beta": "assistants=v2",
        "http-referer": "https://myapp.example",
        "x-title": "Release Notes Helper",
        "user-agent": "MyApp/1.2 (linux)",
        "x-custom-thing": "not forwarded",
    }
    with client:
        response = client.post("/v1/chat/completions", json=CHAT, headers=sent)
    assert response.status_code == 200
    got = upstream.requests[0].headers
    for name, value in sent.items():
        if name == "x-custom-thing":
            assert name not in got
        else:
            assert got[name] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("openai-organization", "Jane Doe's org"),
        ("openai-project", "proj_ with spaces"),
        ("openai-beta", "please send my notes"),
        ("http-referer", "https://myapp.example/?email=jane@example.com"),
        ("x-title", "x" * 80),
        ("user-agent", "MyApp/1.0 \u00e9t\u00e9"),
    ],
)
def test_free_text_outside_the_shape_is_refused(name: str, value: str) -> None:
    with pytest.raises(BadRequest) as info:
        app_headers({name: value})
    assert info.value.param == name
    assert name in str(info.value)


def test_a_refused_header_is_a_400_and_nothing_leaves() -> None:
    upstream = Upstream()
    client, ledger = gateway(upstream)
    with client:
        response = client.post(
            "/v1/chat/completions", json=CHAT, headers={"openai-organization": "my org"}
        )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "openai-organization"
    assert upstream.requests == [] and ledger.egress == []
