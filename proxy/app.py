"""The FastAPI gateway: OpenAI-compatible routes over the pipeline."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from .errors import GatewayError, error_body
from .ingress import build_exchange, check_token, parse_json_object, read_body
from .pipeline import Pipeline, Reply
from .settings import Settings
from .surfaces import bridge
from .surfaces.anthropic_messages import SURFACE

log = logging.getLogger("cogate.app")

PipelineFactory = Callable[[Settings], Any]  # returns an async context manager yielding Pipeline
# Completions answer JSON, or server-sent events when the request asks to stream.
STREAMED: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {}}}}


def create_app(settings: Settings, assemble: PipelineFactory | None = None) -> FastAPI:
    """Build the gateway. `assemble` builds the pipeline and its parts for the app's lifetime."""
    if assemble is None:
        from .assembly import assemble_pipeline as assemble

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with assemble(settings) as pipeline:
            app.state.pipeline = pipeline
            yield

    app = FastAPI(title="cogate", version=__version__, lifespan=lifespan)
    app.state.settings = settings

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if exc.status_code == 404 else "http_error"
        message = (
            f"no route {request.method} {request.url.path}; cogate serves /v1/chat/completions, "
            "/v1/completions, /v1/embeddings, /v1/models and /cogate/health"
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

    async def proxied(route: str, request: Request) -> Response:
        check_token(settings, request)
        body: dict[str, Any] = {}
        if request.method == "POST":
            body = parse_json_object(await read_body(settings, request))
        ex = build_exchange(route, body, request)
        pipeline: Pipeline = request.app.state.pipeline
        return to_response(await pipeline.handle(ex))

    @app.post("/v1/chat/completions", responses=STREAMED)
    async def chat_completions(request: Request) -> Response:
        return await proxied("chat/completions", request)

    @app.post("/v1/completions", responses=STREAMED)
    async def completions(request: Request) -> Response:
        return await proxied("completions", request)

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Response:
        return await proxied("embeddings", request)

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        return await proxied("models", request)

    # Anthropic Messages: bridge until the surface seam lands (proxy/surfaces/bridge.py).
    @app.post("/v1/messages", responses=STREAMED)
    @app.post("/v1/messages/count_tokens")
    async def messages(request: Request) -> Response:
        ex = await bridge.exchange_for(settings, request)
        return to_response(await request.app.state.pipeline.handle(ex))

    @app.api_route("/v1/messages/{rest:path}", methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
    async def messages_other(request: Request, rest: str) -> Response:
        raise SURFACE.refuse(request.url.path)

    @app.get("/cogate/metrics", response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        check_token(settings, request)
        pipeline: Pipeline = request.app.state.pipeline
        return Response(pipeline.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/cogate/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    return app


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
