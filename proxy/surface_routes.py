"""HTTP routes of the Responses surface (interim wiring until the kernel's seam lands).

Each operation of the surface gets its route; anything else under `/v1/responses` and
`/v1/conversations` is refused, never passed through unread. A WebSocket upgrade on
`/v1/responses` gets 426 so clients fall back to HTTP at once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response

from .errors import BadRequest, GatewayError, error_body
from .ingress import build_exchange, check_token, parse_json_object, read_body
from .pipeline import Pipeline, Reply
from .settings import Settings
from .surfaces.openai_responses import OPERATIONS, OWNED_PREFIXES, Operation

ToResponse = Callable[[Reply], Response]
# Response, conversation and item ids are opaque tokens of these characters; anything else is
# refused before it can reach the upstream's URL.
ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
RESERVED = {"compact", "input_tokens", "input_items", "items", "cancel"}
UPGRADE_REFUSED = (
    "cogate serves the Responses API over HTTP only; WebSocket is not supported yet, so use "
    "the HTTP transport (clients fall back to it on 426)"
)


def upgrade_required() -> JSONResponse:
    body = error_body(UPGRADE_REFUSED, "invalid_request_error", "websocket_not_supported")
    return JSONResponse(body, status_code=426, headers={"upgrade": "websocket"})


def add_surface_routes(app: FastAPI, settings: Settings, to_response: ToResponse) -> None:
    for op in OPERATIONS:
        app.add_api_route(op.path, _handler(op, settings, to_response), methods=[op.method])

    @app.websocket("/v1/responses")
    async def websocket_refused(websocket: WebSocket) -> None:
        await websocket.send_denial_response(upgrade_required())

    @app.get("/v1/responses", include_in_schema=False)
    async def plain_get(request: Request) -> Response:
        if request.headers.get("upgrade", "").lower() == "websocket":
            return upgrade_required()
        return _refused(request)

    for prefix in OWNED_PREFIXES:
        app.add_api_route(
            prefix + "/{rest:path}",
            _refused,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            include_in_schema=False,
        )


PATTERNS = [re.compile(re.sub(r"\{[^}]+\}", "[^/]+", o.path) + "$") for o in OPERATIONS]


def _refused(request: Request) -> JSONResponse:
    served = ", ".join(f"{o.method} {o.path}" for o in OPERATIONS)
    message = f"cogate does not serve {request.method} {request.url.path}; it serves {served}"
    known_path = any(p.match(request.url.path) for p in PATTERNS)
    status, code = (405, "method_not_allowed") if known_path else (404, "not_found")
    return JSONResponse(error_body(message, "invalid_request_error", code), status)


def _handler(
    op: Operation, settings: Settings, to_response: ToResponse
) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        check_token(settings, request)
        for name, value in request.path_params.items():
            if value in RESERVED:  # DELETE /v1/responses/compact is not a response id
                raise GatewayError(
                    f"{request.method} {request.url.path} is not an operation cogate serves",
                    status=405,
                    type="invalid_request_error",
                    code="method_not_allowed",
                )
            if not ID.fullmatch(value):
                raise BadRequest(
                    f"{name} must be an id of letters, digits, '_' and '-'; check the URL",
                    param=name,
                )
        body: dict[str, Any] = {}
        if op.scanned:
            body = parse_json_object(await read_body(settings, request))
        ex = build_exchange("responses", body, request)
        path = request.url.path.removeprefix("/v1")
        query = request.url.query
        ex.notes.update(
            surface_op=op.name,
            method=op.method,
            scanned=op.scanned,
            upstream_path=path + (f"?{query}" if query else ""),
            path_id=request.path_params.get("response_id")
            or request.path_params.get("conversation_id"),
            # GET /v1/responses/{id}?stream=true resumes a stream (starting_after).
            query_stream=request.query_params.get("stream") == "true",
        )
        pipeline: Pipeline = request.app.state.pipeline
        return to_response(await pipeline.handle(ex))

    handle.__name__ = op.name.replace(".", "_")
    return handle
