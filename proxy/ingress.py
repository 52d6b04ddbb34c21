"""Turn an HTTP request into an Exchange, refusing bad input with a clear message."""

from __future__ import annotations

import hmac
import json
from typing import Any

from cogate.core.errors import BadRequest, GatewayError, Unauthorized
from cogate.core.exchange import Exchange
from cogate.core.modes import MODES, is_mode
from cogate.core.settings import Settings
from cogate.core.surface import Operation, Surface, forward_headers
from starlette.requests import Request

from .intercept_secret import destination_hint
from .shape import check_shape
from .surfaces import upstream_route

MAX_DEPTH = 64
MAX_HEADER_VALUE = 1024


class BodyTooLarge(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


def check_token(settings: Settings, request: Request) -> None:
    if settings.token is None:
        return
    sent = request.headers.get("x-cogate-token", "")
    if not hmac.compare_digest(sent.encode(), settings.token.get_secret_value().encode()):
        raise Unauthorized(
            "this gateway requires its access token: send it in the x-cogate-token header"
        )


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
    return b"".join(chunks)


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
    forwarded = forward_headers(surface) or ()
    return Exchange(
        route=route,
        body=body,
        surface=surface,
        op=operation.name,
        method=operation.method,
        raw=raw,
        query=request.url.query,
        authorization=request.headers.get("authorization"),
        upstream_headers={k: v for k in forwarded if (v := request.headers.get(k))},
        app=_header(request, "x-cogate-app") or "default",
        conversation=_header(request, "x-cogate-conversation"),
        requested_mode=mode,
        # Only `cogate intercept` (holding the current secret) may name the original host.
        destination_host=destination_hint(request.app.state.settings, request.headers),
    )
