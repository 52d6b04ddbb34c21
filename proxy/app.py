"""The FastAPI gateway: OpenAI-compatible routes over the pipeline."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from cogate.audit.backends import open_tokens
from cogate.core.database import Database
from cogate.core.errors import GatewayError, error_body
from cogate.core.settings import Settings
from cogate.core.surface import Operation, Surface
from cogate.proxy import __version__
from cogate.proxy.assembly import assemble_pipeline
from cogate.proxy.defences.browser import BrowserGuard
from cogate.proxy.identity import Identities
from cogate.proxy.ingress import build_exchange, parse_json_object, read_body
from cogate.proxy.lean import Endpoint, LeanRoutes, gateway_error
from cogate.proxy.local_gate import LocalStatus
from cogate.proxy.pipeline import Pipeline, Reply
from cogate.proxy.surfaces import SURFACES
from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("cogate.app")

PipelineFactory = Callable[[Settings], Any]  # returns an async context manager yielding Pipeline
# Completions answer JSON, or server-sent events when the request asks to stream.
STREAMED: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {}}}}


def create_app(
    settings: Settings,
    assemble: PipelineFactory | None = None,
    surfaces: Sequence[Surface] = SURFACES,
    *,
    local: LocalStatus | None = None,
    on_ready: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the gateway: each surface's routes over one pipeline. `assemble` builds the
    pipeline and its parts for the app's lifetime; `local` is what serve's start-up probe
    found about the local model (for /cogate/health); `on_ready` is called once start-up has
    loaded everything (serve's "ready in N s")."""
    local = local or LocalStatus("ok" if settings.local_enabled else "disabled")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One pool for the shared database: the ledger, the tokens and the vaults use it.
        database = Database(settings.database_url) if settings.database_url else None
        store = open_tokens(settings.data_dir, settings.database_url, database)
        app.state.identities = Identities(settings, store)
        factory = assemble or partial(assemble_pipeline, database=database, endpoint=local.endpoint)
        try:
            async with factory(settings) as pipeline:
                app.state.pipeline = pipeline
                # What start-up loaded (spaCy, Presidio, the policy: ~500,000 objects) stays
                # for the process's life; out of the collector's sight, a full collection
                # during a large request takes milliseconds, not a second with the GIL held.
                gc.freeze()
                if on_ready is not None:
                    on_ready()
                yield
        finally:
            store.close()
            if database is not None:
                database.close()

    # No redirects: a trailing slash or an unknown path gets the OpenAI-shaped 404, never a
    # Location built from the request's Host.
    app = FastAPI(title="cogate", version=__version__, lifespan=lifespan, redirect_slashes=False)
    app.state.settings = settings
    endpoints: dict[tuple[str, str], Endpoint] = {}
    # Inside the browser guard: every request is checked before either path serves it.
    app.add_middleware(LeanRoutes, endpoints=endpoints)
    app.add_middleware(BrowserGuard, settings=settings)
    _error_handlers(app, surfaces)
    for surface in surfaces:
        for operation in surface.operations:
            endpoint = _route(app, settings, surface, operation)
            if "{" not in operation.path:  # no path parameters: the lean path can serve it
                endpoints[(operation.method, operation.path)] = endpoint
    _refuse_websockets(
        app, {op.path for s in surfaces for op in s.operations if op.method == "POST"}
    )

    @app.get("/cogate/metrics", response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        identities: Identities = request.app.state.identities
        if identities.shared():
            identities.authenticate(request.headers)
        pipeline: Pipeline = request.app.state.pipeline
        return Response(pipeline.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/cogate/health")
    async def health(request: Request) -> dict[str, Any]:
        status = "ok"
        if not await _may_see_details(request):
            # A shared gateway tells a caller without a token only that it is up: worker
            # pids, versions and detection figures are for its users and operators.
            return {"status": status}
        pipeline: Pipeline | None = getattr(request.app.state, "pipeline", None)
        serving = pipeline.local_status() if pipeline is not None else {}
        detection = pipeline.detection_status() if pipeline is not None else {}
        upstreams = await pipeline.upstream_status() if pipeline is not None else []
        down = [u["name"] for u in upstreams if u["reachable"] is False]
        return {
            # degraded: the gateway answers, but requests to an upstream that is down fail.
            "status": "degraded" if down else "ok",
            **({"unreachable": down} if down else {}),
            "version": __version__,
            "upstreams": upstreams,
            "local_model": local.as_dict() | serving,
            "detection": detection,
        }

    return app


async def _may_see_details(request: Request) -> bool:
    """Personal mode, or a shared gateway's caller with a valid token."""
    identities: Identities | None = getattr(request.app.state, "identities", None)
    if identities is None:
        return False

    def check() -> bool:
        if identities.shared():
            identities.authenticate(request.headers)
        return True

    try:
        return check() if identities.local else await run_in_threadpool(check)
    except Exception:  # noqa: BLE001 - no token, a wrong one, or the store down: status only
        return False


def _route(app: FastAPI, settings: Settings, surface: Surface, operation: Operation) -> Endpoint:
    """Serve one operation of a surface through the pipeline; returns its endpoint."""

    async def proxied(request: Request) -> Response:
        identities: Identities = request.app.state.identities
        if identities.local:
            caller = identities.authenticate(request.headers)
        else:
            caller = await run_in_threadpool(identities.authenticate, request.headers)
        raw, body = b"", {}
        if operation.method != "GET":
            raw = await read_body(settings, request)
            body = parse_json_object(raw) if raw or operation.scanned else {}
        ex = build_exchange(surface, operation, raw, body, request)
        ex.identity, ex.bound_apps = caller.identity, caller.bound_apps
        if caller.bearer:  # the gateway's token: the configured upstream key goes instead
            ex.authorization = None
            ex.upstream_headers.pop("authorization", None)
        pipeline: Pipeline = request.app.state.pipeline
        return to_response(await pipeline.handle(ex))

    streamed = operation.method == "POST" and operation.scanned
    app.add_api_route(
        operation.path,
        proxied,
        methods=[operation.method],
        name=operation.name,
        responses=STREAMED if streamed else None,
    )
    return proxied


WEBSOCKET_REFUSED = (
    "cogate serves this API over HTTP only; WebSocket is not supported yet, so use the HTTP "
    "transport (clients fall back to it on 426)"
)


def _refuse_websockets(app: FastAPI, paths: set[str]) -> None:
    """A WebSocket upgrade gets 426 Upgrade Required, so clients that try WebSocket first
    (Codex CLI on /v1/responses) fall back to HTTP at once."""

    async def refuse(websocket: WebSocket) -> None:
        body = error_body(WEBSOCKET_REFUSED, "invalid_request_error", "websocket_not_supported")
        denial = JSONResponse(body, status_code=426, headers={"upgrade": "websocket"})
        await websocket.send_denial_response(denial)

    for path in sorted(paths):
        app.add_api_websocket_route(path, refuse)


def _error_handlers(app: FastAPI, surfaces: Sequence[Surface]) -> None:
    """OpenAI-shaped errors for refusals, unknown routes and invalid parameters."""
    served = ", ".join(op.path for surface in surfaces for op in surface.operations)

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        return gateway_error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if exc.status_code == 404 else "http_error"
        message = (
            f"no route {request.method} {request.url.path}; cogate serves {served} and "
            "/cogate/health"
            if exc.status_code in (404, 405)
            else str(exc.detail)
        )
        return JSONResponse(
            error_body(message, "invalid_request_error", code), status_code=exc.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return JSONResponse(
            error_body(
                f"invalid {where}: {first.get('msg', 'bad value')}",
                "invalid_request_error",
                "invalid_request",
                where or None,
            ),
            status_code=400,
        )


def to_response(reply: Reply) -> Response:
    if reply.stream is not None:
        return StreamingResponse(
            reply.stream,
            status_code=reply.status,
            headers=reply.headers,
            media_type=reply.media_type,
        )
    return Response(
        reply.body, status_code=reply.status, headers=reply.headers, media_type=reply.media_type
    )
