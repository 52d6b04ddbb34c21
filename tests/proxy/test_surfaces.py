"""The wire-API seam: the app is built from the surface list, each surface reaches its own
upstream, and a new surface needs no change to the pipeline."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from cogate.core.settings import Settings
from cogate.core.surface import Operation, Scanner
from cogate.core.wire import encode_json
from cogate.proxy.app import create_app
from cogate.proxy.surfaces import SURFACES, exchange_for, upstream_route
from cogate.proxy.surfaces.openai import OpenAISurface
from fastapi.testclient import TestClient

from .doubles import ListLedger, assembler


class EchoMessages(OpenAISurface):
    """A made-up Anthropic-style surface: POST /v1/echo, forwarded without the /v1 prefix."""

    name = "test.echo"
    upstream = "anthropic"
    strip_prefix = ""
    operations = (Operation("POST", "/v1/echo", "echo.create"),)

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        return encode_json({**body, "text": scanner.text(body.get("text", ""), "text")})


def recorder(seen: list[httpx.Request]):
    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    return upstream


def test_the_app_serves_every_operation_of_its_surfaces() -> None:
    app = create_app(Settings(), assembler(recorder([]), ListLedger()))
    served = {(m, r.path) for r in app.routes for m in getattr(r, "methods", ()) or ()}
    for surface in SURFACES:
        for operation in surface.operations:
            assert (operation.method, operation.path) in served


def test_a_new_surface_is_a_module_and_a_list_entry() -> None:
    seen: list[httpx.Request] = []
    settings = Settings(upstream="http://openai.test/v1", anthropic_upstream="http://claude.test")
    app = create_app(settings, assembler(recorder(seen), ListLedger()), [*SURFACES, EchoMessages()])
    with TestClient(app) as client:
        reply = client.post("/v1/echo", json={"text": "hi"})
        chat = client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]}
        )
    assert reply.status_code == 200 and chat.status_code == 200
    assert str(seen[0].url) == "http://claude.test/v1/echo"  # strip_prefix "" keeps /v1
    assert str(seen[1].url) == "http://openai.test/v1/chat/completions"
    assert json.loads(seen[0].content) == {"text": "hi"}


def test_anthropic_upstream_from_flag_env_and_default(monkeypatch) -> None:
    assert Settings().anthropic_upstream == "https://api.anthropic.com"
    monkeypatch.setenv("COGATE_ANTHROPIC_UPSTREAM", "http://env.test/")
    assert Settings().anthropic_upstream == "http://env.test"
    assert Settings(anthropic_upstream="http://flag.test").upstream_for(None, "anthropic") == (
        "http://flag.test"
    )
    with pytest.raises(ValueError, match="http"):
        Settings(anthropic_upstream="ftp://x")


@pytest.mark.parametrize(
    ("route", "surface"),
    [
        ("chat/completions", "openai.chat"),
        ("completions", "openai.completions"),
        ("embeddings", "openai.embeddings"),
        ("models", "openai.models"),
    ],
)
def test_each_route_has_its_surface_and_upstream_path(route: str, surface: str) -> None:
    ex = exchange_for(route, {} if route == "models" else {"model": "m"})
    assert ex.surface is not None and ex.surface.name == surface
    assert upstream_route(ex.surface, f"/v1/{route}") == route
