"""Forward a request of a wire-API surface (today: Responses) and restore its answer.

Interim wiring until the kernel's surface seam lands: the exchange carries the surface
operation in `ex.notes` (set by proxy/surface_routes.py); this module sends it through the
egress gate with the operation's method and path, restores JSON and named event streams
with the surface's own restorers, and remembers response ids for the vault chain.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from cogate.policies.restore import HeldText, TextRestorer

from . import sse
from .egress import EgressGate, UpstreamReply
from .errors import GatewayError, StageFailed, UpstreamUnreachable
from .exchange import Exchange
from .pipeline import Reply
from .surfaces.openai_responses import SURFACE
from .surfaces.responses_stream import SSEEvent


def _text(ex: Exchange) -> TextRestorer | None:
    restorer = ex.restorer
    return getattr(restorer, "text", None)


def remember(ex: Exchange, answer: Any) -> None:
    """After an answer: its response/conversation id continues this exchange's vault."""
    chains, key = ex.notes.get("response_chains"), ex.notes.get("vault_key")
    if chains is None or key is None or not isinstance(answer, dict):
        return
    object_id = answer.get("id")
    if isinstance(object_id, str) and answer.get("object") in ("response", "conversation"):
        chains.remember(ex.notes["identity"], object_id, key)


def _carries_credentials(body: Any) -> bool:
    tools = body.get("tools") if isinstance(body, dict) else None
    return isinstance(tools, list) and any(
        isinstance(t, dict) and ("authorization" in t or "headers" in t) for t in tools
    )


async def forward_surface(ex: Exchange, gate: EgressGate) -> Reply:
    op, method = ex.notes["surface_op"], ex.notes["method"]
    body = ex.outbound_body
    if ex.notes["scanned"] and body is None:
        if ex.mode != "passthrough":
            raise StageFailed(
                "no sanitized request was produced, so nothing was sent",
                code="pipeline_no_sanitized_body",
            )
        body = ex.body
    if _carries_credentials(body):
        # An MCP tool's credential is forwarded but never stored: the ledger keeps the
        # body's hash and size only.
        ex.notes["store_body"] = False
    stream = SURFACE.stream_requested(op, ex.body) or bool(ex.notes.get("query_stream"))
    upstream = await gate.send(
        ex, ex.notes["upstream_path"], body if ex.notes["scanned"] else None,
        stream=stream, method=method,
    )  # fmt: skip
    if upstream.response is not None:
        return Reply(
            status=upstream.status,
            headers=upstream.headers,
            stream=_relay(ex, op, upstream),
            media_type=upstream.headers.get("content-type", "text/event-stream"),
        )
    content = _restored_whole(ex, op, upstream)
    return Reply(
        status=upstream.status,
        headers=upstream.headers,
        body=content,
        media_type=upstream.headers.get("content-type", "application/json"),
    )


def _restored_whole(ex: Exchange, op: str, upstream: UpstreamReply) -> bytes:
    """A whole answer with the app's values back; an error body is restored too (its
    message may quote a placeholder), and one that is not JSON is relayed as it is."""
    content, text = upstream.content, _text(ex)
    try:
        answer = json.loads(content) if content else None
    except ValueError:
        if upstream.status >= 400:
            return content
        raise UpstreamUnreachable(
            "the upstream answered with a body that is not JSON, so cogate could not "
            "restore your values in it",
            code="upstream_bad_response",
        ) from None
    if upstream.status < 400:
        remember(ex, answer)
    if text is None or answer is None:
        return content
    return json.dumps(SURFACE.restore_json(op, answer, text), ensure_ascii=False).encode()


async def _relay(ex: Exchange, op: str, upstream: UpstreamReply) -> AsyncIterator[bytes]:
    text = _text(ex)
    machine = SURFACE.stream_restorer(op, HeldText(text), text) if text is not None else None
    if machine is None and ex.notes.get("vault_key") is None:
        # Nothing to restore and no chain to remember (passthrough): relay byte for byte.
        async for chunk in upstream.chunks():
            yield chunk
        return
    try:
        async for raw in sse.iter_events(upstream.chunks()):
            data, name = sse.event_data(raw), sse.event_name(raw)
            if isinstance(data, dict) and data.get("type") == "response.created":
                remember(ex, data.get("response"))
            envelope = data.get("response") if isinstance(data, dict) else None
            if isinstance(envelope, dict) and envelope.get("usage"):
                ex.notes["usage"] = envelope["usage"]
            if machine is None or not isinstance(data, dict):
                yield raw + b"\n\n"
                continue
            for out in machine.feed(SSEEvent(name, data)):
                yield sse.encode_event(out.data, out.name)
        if machine is not None:
            for out in machine.finish():
                yield sse.encode_event(out.data, out.name)
    except GatewayError as exc:
        # The stream broke after it began: end it with an `error` event the SDKs raise.
        if machine is not None:
            for out in machine.finish():
                yield sse.encode_event(out.data, out.name)
        error = {"type": "error", **exc.body()["error"]}
        yield sse.encode_event(error, "error")
