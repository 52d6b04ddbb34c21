"""Temporary wiring of the Messages surface into today's gateway, until the surface seam lands.

Ingress puts the surface, the operation and the raw body on the exchange; the privacy
engine rewrites through `surface.rewrite`; `forward` sends the exact rewritten bytes to the
Anthropic upstream and restores the answer or the event stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from cogate.policies.restore import HeldText
from starlette.requests import Request

from .. import sse
from ..egress import EgressGate, UpstreamReply
from ..errors import GatewayError, StageFailed, UpstreamUnreachable
from ..exchange import Exchange
from ..ingress import build_exchange, check_token, parse_json_object, read_body
from ..pipeline import Reply
from ..settings import Settings
from .anthropic_messages import SURFACE, MessagesSurface
from .anthropic_stream import SSEEvent

# Request headers the Messages API reads, forwarded as the app sent them (never logged).
FORWARDED = ("x-api-key", "authorization", "anthropic-version", "anthropic-beta")
ROUTES = {"/v1/messages": "messages.create", "/v1/messages/count_tokens": "messages.count_tokens"}


async def exchange_for(settings: Settings, request: Request) -> Exchange:
    """An exchange for a Messages request, carrying its raw body and forwarded headers."""
    check_token(settings, request)
    path = request.url.path
    op = ROUTES.get(path)
    if op is None:
        raise SURFACE.refuse(path)
    raw = await read_body(settings, request)
    body = parse_json_object(raw)
    ex = build_exchange(path.removeprefix("/v1/"), body, request)
    ex.notes.update(surface=SURFACE, op=op, raw=raw, query=request.url.query)
    ex.upstream_headers = {k: v for k in FORWARDED if (v := request.headers.get(k))}
    if ex.destination_host is None:
        ex.destination_host = (urlsplit(settings.anthropic_upstream).hostname or "").lower()
    return ex


def upstream_base(settings: Settings, ex: Exchange) -> str:
    host = ex.destination_host
    if host and host in settings.intercept_upstreams:
        return settings.intercept_upstreams[host].rstrip("/")
    return settings.anthropic_upstream


async def forward(ex: Exchange, gate: EgressGate) -> Reply:
    surface: MessagesSurface = ex.notes["surface"]
    op = ex.notes["op"]
    raw = ex.notes.get("outbound_raw")
    if raw is None:
        raise StageFailed(
            "no sanitized request was produced, so nothing was sent",
            code="pipeline_no_sanitized_body",
        )
    path = "/v1/" + ex.route + (f"?{ex.notes['query']}" if ex.notes.get("query") else "")
    upstream = await gate.send(
        ex,
        path,
        ex.outbound_body,
        stream=surface.stream_requested(op, ex.body),
        raw=raw,
        base_url=upstream_base(gate.settings, ex),
        upstream_headers=ex.upstream_headers,
    )
    media = upstream.headers.get("content-type", "application/json")
    if upstream.response is not None:
        return Reply(
            upstream.status, upstream.headers, stream=relay(ex, upstream), media_type=media
        )
    content = upstream.content
    if ex.findings:
        try:
            content = surface.restore_raw(op, content, ex.restorer.text)  # type: ignore[attr-defined]
        except ValueError:
            if upstream.status < 400:
                raise UpstreamUnreachable(
                    "the upstream answered with a body that is not JSON, so cogate could not "
                    "restore your values in it",
                    code="upstream_bad_response",
                ) from None
    return Reply(upstream.status, upstream.headers, body=content, media_type=media)


async def relay(ex: Exchange, upstream: UpstreamReply) -> AsyncIterator[bytes]:
    """The upstream's events; unchanged events keep their exact bytes."""
    if not ex.findings:
        async for chunk in upstream.chunks():
            yield chunk
        return
    text = ex.restorer.text  # type: ignore[attr-defined]
    restorer = ex.notes["surface"].stream_restorer(ex.notes["op"], HeldText(text), text)
    try:
        async for raw in sse.iter_events(upstream.chunks()):
            data = sse.event_data(raw)
            if not isinstance(data, dict):
                yield raw + b"\n\n"
                continue
            _note_usage(ex, data)
            event = SSEEvent(sse.event_name(raw), data)
            for out in restorer.feed(event):
                yield raw + b"\n\n" if out is event else sse.encode_event(out.data, out.name)
        for out in restorer.finish():
            yield sse.encode_event(out.data, out.name)
    except GatewayError as exc:
        for out in restorer.finish():
            yield sse.encode_event(out.data, out.name)
        error = {"type": "error", "error": {"type": "api_error", "message": exc.message}}
        yield sse.encode_event(error, "error")


def _note_usage(ex: Exchange, data: dict[str, Any]) -> None:
    usage = data.get("usage") or (data.get("message") or {}).get("usage")
    if isinstance(usage, dict):
        ex.notes["usage"] = {**(ex.notes.get("usage") or {}), **usage}
