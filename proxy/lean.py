"""A lean path for the proxied routes: the same endpoint, without FastAPI's routing.

FastAPI's per-request work (matching every route's pattern in turn, the dependency solver,
an exit stack per request, the exception middleware) costs about a quarter of a millisecond,
a large share of what passthrough adds. The proxied endpoints take nothing but the request,
so a request whose method and path name one of them exactly is handed to that endpoint here.
It sits inside the browser guard like every route, runs the endpoint that FastAPI would run
(authentication, body limits, shape checks, the pipeline) and maps a refusal to the same
OpenAI-shaped error. Anything else (routes with path parameters, unknown paths, WebSocket,
lifespan) goes on to FastAPI unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from cogate.core.errors import GatewayError
from cogate.proxy.defences.browser import ASGIApp, Receive, Scope, Send
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Endpoint = Callable[[Request], Awaitable[Response]]


class LeanRoutes:
    """ASGI middleware serving `endpoints` ((method, path) → endpoint) directly."""

    def __init__(self, app: ASGIApp, endpoints: Mapping[tuple[str, str], Endpoint]) -> None:
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = None
        # A mounted gateway (a root path) is left to FastAPI, which strips it.
        if scope["type"] == "http" and not scope.get("root_path"):
            endpoint = self.endpoints.get((scope["method"], scope["path"]))
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except GatewayError as exc:
            response = gateway_error(exc)
        await response(scope, receive, send)


def gateway_error(exc: GatewayError) -> JSONResponse:
    """The OpenAI-shaped answer to a refusal (the app's exception handler uses it too)."""
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
