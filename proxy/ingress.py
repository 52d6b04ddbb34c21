"""Turn an HTTP request into an Exchange, refusing bad input with a clear message."""

from __future__ import annotations

import json
import re
from typing import Any

from cogate.core.app_headers import app_headers
from cogate.core.errors import BadRequest, GatewayError
from cogate.core.exchange import Exchange
from cogate.core.modes import MODES, is_mode
from cogate.core.settings import Settings
from cogate.core.surface import Operation, Surface, forward_headers
from cogate.proxy.defences.body_encoding import decode_body
from cogate.proxy.intercept.secret import destination_hint
from cogate.proxy.surfaces import upstream_route
from cogate.proxy.surfaces.openai_shape import check_shape
from starlette.requests import Request

MAX_DEPTH = 64
MAX_HEADER_VALUE = 1024
MAX_APP_LABEL = 128  # the app label is logged (scanned first): keep it a name, not a text
# Ids in paths (response, conversation, item ids) are opaque tokens of these characters;
# anything else is refused before it can reach the upstream's URL.
PATH_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
# Query parameters are forwarded unscanned, so they may hold only ids, numbers and enums
# (`include[]=message.output_text.logprobs`, `starting_after=12`, `order=asc`).
QUERY_NAME = re.compile(r"[A-Za-z0-9_.\[\]-]{1,64}")
QUERY_VALUE = re.compile(r"[A-Za-z0-9_.:-]{0,200}")


class BodyTooLarge(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


async def read_body(settings: Settings, request: Request) -> bytes:
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(
            f"request body is {declared} bytes; this gateway accepts at most {limit}"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body exceeds this gateway's limit of {limit} bytes")
        chunks.append(chunk)
    # Compressed bodies (Codex CLI sends zstd) are decoded and limited again after decoding.
    return decode_body(b"".join(chunks), request.headers.get("content-encoding"), limit)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"request body is not valid UTF-8 (byte {exc.start}); send UTF-8 JSON"
        ) from None
    if not text.strip():
        raise BadRequest("request body is empty; send a JSON object")
    try:
        body = json.loads(text)
    except RecursionError:
        raise BadRequest(f"request JSON is nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    if _depth(body) > MAX_DEPTH:
        raise BadRequest(f"request JSON is nested deeper than {MAX_DEPTH} levels")
    if _has_lone_surrogate(body):
        raise BadRequest(
            "request JSON holds an unpaired surrogate escape (\\ud800-\\udfff); send valid Unicode"
        )
    return body


def _has_lone_surrogate(value: Any) -> bool:
    """True when a string or key holds a \\uD800-\\uDFFF escape that is not part of a pair."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and not node.isascii():
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    if value is not None and len(value) > MAX_HEADER_VALUE:
        raise BadRequest(f"header {name} is longer than {MAX_HEADER_VALUE} characters")
    return value or None


def build_exchange(
    surface: Surface, operation: Operation, raw: bytes, body: dict[str, Any], request: Request
) -> Exchange:
    """The exchange of one request to `operation` of `surface`, its headers checked."""
    mode = _header(request, "x-cogate-mode")
    if mode is not None and not is_mode(mode):
        raise BadRequest(
            f"header x-cogate-mode is {mode!r}; use one of {', '.join(MODES)}",
            param="x-cogate-mode",
        )
    route = upstream_route(surface, request.url.path)
    check_shape(route, body)
    app = _header(request, "x-cogate-app")
    if app is not None and len(app) > MAX_APP_LABEL:
        raise BadRequest(
            f"header x-cogate-app is longer than {MAX_APP_LABEL} characters; send a short app name",
            param="x-cogate-app",
        )
    params = check_path_params(surface, request.method, request.path_params)
    query = request.url.query
    forwarded = forward_headers(surface) or ()
    return Exchange(
        route=route + (f"?{query}" if query else ""),
        body=body,
        surface=surface,
        op=operation.name,
        method=operation.method,
        raw=raw,
        params=params,
        query=check_query(request),
        authorization=request.headers.get("authorization"),
        upstream_headers={k: v for k in forwarded if (v := request.headers.get(k))},
        app_headers=app_headers(request.headers),
        app=app or "default",
        conversation=_header(request, "x-cogate-conversation"),
        requested_mode=mode,
        # Only `cogate intercept` (holding the current secret) may name the original host.
        destination_host=destination_hint(request.app.state.settings, request.headers),
    )


def check_path_params(surface: Surface, method: str, values: dict[str, Any]) -> dict[str, str]:
    """The route's path parameters, each an opaque id; a literal segment of one of the
    surface's own routes in an id's place (DELETE /v1/responses/compact) names no operation."""
    literals = {part for op in surface.operations for part in op.path.split("/") if "{" not in part}
    params: dict[str, str] = {}
    for name, value in values.items():
        value = str(value)
        if value in literals:
            raise GatewayError(
                f"{method} with {value!r} in place of {name} is not an operation cogate serves",
                status=405,
                type="invalid_request_error",
                code="method_not_allowed",
            )
        if not PATH_ID.fullmatch(value):
            raise BadRequest(
                f"{name} must be an id of letters, digits, '_' and '-'; check the URL", param=name
            )
        # The API's own id shape where the surface declares one (`resp_…`): anything else
        # in that place (an SSN typed into a URL) is never sent to the upstream's URL.
        shape = getattr(surface, "path_ids", {}).get(name)
        if shape is not None and not shape.fullmatch(value):
            raise BadRequest(
                f"{name} is not an id of this API ({shape.pattern}); check the URL", param=name
            )
        params[name] = value
    return params


def check_query(request: Request) -> dict[str, str]:
    """The query parameters, each an id, number or enum: free text there would leave unread."""
    for name, value in request.query_params.multi_items():
        if QUERY_NAME.fullmatch(name) and QUERY_VALUE.fullmatch(value):
            continue
        named = QUERY_NAME.fullmatch(name) is not None  # never echo what may be free text
        raise BadRequest(
            f"{f'query parameter {name}' if named else 'a query parameter name'} must be an "
            "id, number or enum of letters, digits, '_', '.', ':' and '-'; text cannot be "
            "sent in a URL",
            param=name if named else None,
        )
    return dict(request.query_params)
