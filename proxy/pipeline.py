"""One pipeline for every request: resolve policy → detect and transform → run the mode.

A stage that raises refuses the request; nothing is forwarded unless every stage before
the egress gate succeeded (fail closed). Runners decide what a mode sends: forwarding the
sanitized request (passthrough, redact) or a collaboration strategy (sketch, logits, local);
block mode is refused by the privacy stage, so no runner serves it.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import anyio
from cogate.core import sse
from cogate.core.egress import Egress, Runner, UpstreamAnswer
from cogate.core.errors import GatewayError, StageFailed, UpstreamUnreachable
from cogate.core.exchange import Exchange
from cogate.core.reply import Reply
from cogate.core.surface import (
    EventRestorer,
    SSEEvent,
    Surface,
    restore_bytes,
    signatures,
    stored_ids,
    stream_error,
)
from cogate.proxy.egress.gate import EgressGate
from cogate.proxy.metrics import Metrics
from cogate.proxy.telemetry import Telemetry

log = logging.getLogger("cogate.pipeline")

# How many placeholders were kept because they sat in a URL whose host the policy does not
# allow (a response header, or an SSE comment at the end of a stream).
WITHHELD_HEADER = "x-cogate-restore-withheld"
# Answers and stream events larger than this are parsed and restored in a worker thread: a
# big one must not hold the event loop (and every other client) while it is processed.
OFFLOAD_EVENT_BYTES = 64 * 1024


def withheld_comment(ex: Exchange) -> bytes:
    withheld = ex.restorer.withheld
    return f": {WITHHELD_HEADER} {withheld}\n\n".encode() if withheld else b""


Stage = Callable[[Exchange], None] | Callable[[Exchange], Awaitable[None]]
# Whether a synchronous stage must run in a worker thread for this exchange (CPU-heavy work
# such as detection) or may run inline (microseconds: a thread hop would cost more).
Offload = Callable[[Exchange], bool]


def always(ex: Exchange) -> bool:
    return True


def never(ex: Exchange) -> bool:
    return False


class ForwardRunner:
    """passthrough and redact: forward the (sanitized) request, restore the answer."""

    def __init__(self, max_event_bytes: int | None = sse.DEFAULT_MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes

    async def run(self, ex: Exchange, gate: Egress) -> Reply:
        surface = ex.surface
        if surface is None:
            raise StageFailed("the request has no wire API to answer in; nothing was sent")
        body = ex.outbound
        if body is None and ex.method != "GET":
            # Never fall back to the app's own body when it was meant to be sanitized.
            raise StageFailed(
                "no sanitized request was produced, so nothing was sent",
                code="pipeline_no_sanitized_body",
            )
        upstream = await gate.send(ex, ex.route, body or None, stream=ex.stream, method=ex.method)
        if upstream.streamed:
            return Reply(
                status=upstream.status,
                headers=upstream.headers,
                stream=self._relay(ex, surface, upstream),
                media_type=upstream.headers.get("content-type", "text/event-stream"),
            )
        content = upstream.content
        if upstream.status < 400 and (ex.on_stored is not None or ex.on_signed is not None):
            _remember(ex, surface, _json_or_none(content))
        if ex.needs_restoring:
            if len(content) > OFFLOAD_EVENT_BYTES:
                content = await anyio.to_thread.run_sync(
                    _restored_whole, ex, surface, upstream.status, content
                )
            else:
                content = _restored_whole(ex, surface, upstream.status, content)
            withheld = ex.restorer.withheld
            if withheld:
                ex.response_headers[WITHHELD_HEADER] = str(withheld)
        return Reply(
            status=upstream.status,
            headers=upstream.headers,
            body=content,
            media_type=upstream.headers.get("content-type", "application/json"),
        )

    async def _relay(
        self, ex: Exchange, surface: Surface, upstream: UpstreamAnswer
    ) -> AsyncIterator[bytes]:
        restorer = None
        if ex.needs_restoring:
            restorer = surface.stream_restorer(ex.op, ex.restorer.held(), ex.restorer.text)
        try:
            if restorer is None:
                watch = SignedWatch(ex, surface) if ex.on_signed is not None else None
                async for chunk in upstream.chunks():
                    if watch is not None:
                        watch.feed(chunk)
                    yield chunk
                return
            async for out in _restored(ex, surface, upstream, restorer, self.max_event_bytes):
                yield out
        except GatewayError as exc:
            # The upstream broke or stalled after the answer began: end the stream cleanly
            # with an error event (OpenAI's SDKs raise it) instead of cutting the connection.
            for held in restorer.finish() if restorer is not None else []:
                yield _encode(held)
            yield b"\n\n" + _encode(stream_error(surface, ex.op, exc.body()))


def _restored_whole(ex: Exchange, surface: Surface, status: int, content: bytes) -> bytes:
    """A whole answer with the app's values back. An error body is restored too (its message
    may quote a placeholder); one that is not JSON is relayed as it is."""
    try:
        return restore_bytes(surface, ex.op, content, ex.restorer.text)
    except ValueError:
        if status >= 400:
            return content
        # The app cannot be given its own values back in an answer we cannot read.
        raise UpstreamUnreachable(
            "the upstream answered with a body that is not JSON, so cogate could not "
            "restore your values in it",
            code="upstream_bad_response",
        ) from None


def _json_or_none(content: bytes) -> object:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _remember(ex: Exchange, surface: Surface, answer: object) -> None:
    """Ids under which the upstream keeps this answer continue the exchange's vault; the
    signed blocks it gives the app may come back byte for byte."""
    ids = stored_ids(surface, ex.op, answer) if ex.on_stored is not None else []
    if ids and ex.on_stored is not None:
        ex.on_stored(ids)
    if ex.on_signed is not None:
        for signature in signatures(surface, ex.op, answer):
            ex.on_signed(signature)


class SignedWatch:
    """Reads the signed blocks of a stream relayed byte for byte, without changing a byte:
    only events that may hold one (a signature, redacted thinking) are parsed."""

    def __init__(self, ex: Exchange, surface: Surface) -> None:
        self.ex, self.surface = ex, surface
        self.buffer = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk.replace(b"\r", b"")  # SSE lines may end in \r\n
        cut = self.buffer.rfind(b"\n\n")
        if cut < 0:
            if len(self.buffer) > sse.DEFAULT_MAX_EVENT_BYTES:
                self.buffer.clear()  # too big to be read: its block is unknown, so scanned
            return
        events, self.buffer = bytes(self.buffer[:cut]), self.buffer[cut + 2 :]
        if b"signature" not in events and b"redacted_thinking" not in events:
            return
        for event in events.split(b"\n\n"):
            if b"signature" in event or b"redacted_thinking" in event:
                _remember(self.ex, self.surface, sse.event_data(event))


def _remember_answer(ex: Exchange, reply: Reply) -> None:
    """The ids a locally written answer is stored under (a Responses answer's id), so a
    request continuing it follows this exchange's conversation."""
    if ex.surface is None or reply.status >= 400:
        return
    if reply.stream is None:
        answer = _json_or_none(reply.body)
        if answer is not None:
            _remember(ex, ex.surface, answer)
        return
    reply.stream = _watching(ex, ex.surface, reply.stream)


async def _watching(
    ex: Exchange, surface: Surface, stream: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    seen = False
    try:
        async for chunk in stream:
            if not seen and chunk.startswith((b"event:", b"data:")):
                data = sse.event_data(chunk)
                if isinstance(data, dict) and stored_ids(surface, ex.op, data):
                    seen = True
                    _remember(ex, surface, data)
            yield chunk
    finally:
        # A client that went away closes this stream: the generation under it must stop.
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


def _encode(event: SSEEvent) -> bytes:
    if isinstance(event.data, bytes):
        return event.data + b"\n\n"
    return sse.encode_event(event.data, event.name)


async def _restored(
    ex: Exchange,
    surface: Surface,
    upstream: UpstreamAnswer,
    restorer: EventRestorer,
    max_event_bytes: int | None,
) -> AsyncIterator[bytes]:
    """The upstream's events with the app's values put back (usage noted for the ledger)."""
    done = False
    async for event in sse.iter_events(upstream.chunks(), max_event_bytes):
        if len(event) > OFFLOAD_EVENT_BYTES:
            data, restored = await anyio.to_thread.run_sync(_restore_event, restorer, event)
        else:
            data, restored = _restore_event(restorer, event)
        if data is sse.DONE:
            done = True
            for out in restorer.finish():
                yield _encode(out)
            yield withheld_comment(ex)
            yield sse.DONE_EVENT
        elif isinstance(data, dict):
            usage = data.get("usage") or _envelope(data).get("usage")
            if isinstance(usage, dict) and usage:
                ex.usage = usage
            _remember(ex, surface, data)
            yield restored
        else:
            yield event + b"\n\n"
    if not done:
        # A stream that ended without [DONE]: the text held back belongs to the app.
        for out in restorer.finish():
            yield _encode(out)
        yield withheld_comment(ex)


def _restore_event(restorer: EventRestorer, event: bytes) -> tuple[object, bytes]:
    """An event's data and, for a JSON event, its restored encoding (CPU work, one place)."""
    data = sse.event_data(event)
    if not isinstance(data, dict):
        return data, b""
    parsed = SSEEvent(sse.event_name(event), data)
    try:
        events = restorer.feed(parsed)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # An event of a shape the restorer cannot read (a list where an index belongs): end
        # the stream with an error event rather than cut it mid-body.
        raise UpstreamUnreachable(
            "the upstream sent a stream event cogate could not read, so the stream was ended",
            code="upstream_bad_event",
        ) from exc
    # An event the restorer passed on untouched keeps its exact bytes.
    restored = (event + b"\n\n" if out is parsed else _encode(out) for out in events)
    return data, b"".join(restored)


def _envelope(data: dict[str, object]) -> dict[str, object]:
    """The object an event wraps (`response` of a Responses event, `message` of a
    Messages start event), where APIs that name their events carry usage."""
    for key in ("response", "message"):
        inner = data.get(key)
        if isinstance(inner, dict):
            return inner
    return {}


def _is_async(stage: Stage) -> bool:
    call = type(stage).__call__ if not inspect.isfunction(stage) else stage
    return inspect.iscoroutinefunction(stage) or inspect.iscoroutinefunction(call)


async def _no_upstreams() -> list[dict[str, Any]]:
    return []


class Pipeline:
    def __init__(
        self,
        gate: EgressGate,
        *,
        stages: list[tuple[str, Stage] | tuple[str, Stage, Offload]],
        runners: dict[str, Runner],
        stage_budget_s: float = 30.0,
        metrics: Metrics | None = None,
        local_status: Callable[[], dict[str, Any]] | None = None,
        detection_status: Callable[[], dict[str, Any]] | None = None,
        upstream_status: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.gate = gate
        self.telemetry = telemetry
        # What the local model's runtime and detection say while serving (their worker
        # processes), for health.
        self.local_status = local_status or dict
        self.detection_status = detection_status or dict
        # Each upstream's reachability (`proxy/reach.py`); none when the network is replaced.
        self.upstream_status = upstream_status or _no_upstreams
        self.stages = [(step[0], step[1], step[2] if len(step) > 2 else always) for step in stages]
        # Asked once here rather than for every request (inspect's checks are not free).
        self._async = {id(stage): _is_async(stage) for _, stage, _ in self.stages}
        self.runners = runners
        self.stage_budget_s = stage_budget_s
        self.metrics = metrics or gate.metrics

    async def handle(self, ex: Exchange) -> Reply:
        status = 500
        span = self.telemetry.start(ex) if self.telemetry is not None else None
        try:
            reply = await self._handle(ex)
            status = reply.status
            return reply
        except GatewayError as exc:
            status = exc.status
            if exc.refusal:
                await self._record_refusal(ex, exc)
            raise
        finally:
            self._account(ex, status)
            if span is not None and self.telemetry is not None:
                self.telemetry.end(span, ex, status)

    async def _record_refusal(self, ex: Exchange, exc: GatewayError) -> None:
        """A request the policy refused is an entry of kind `refusal` in the same chain.
        It is refused either way: a ledger that cannot record it is logged, not answered
        with another error (nothing was sent)."""
        try:
            exc.headers["x-cogate-audit-id"] = await self.gate.record_refusal(ex, exc)
        except GatewayError:
            log.error("request %s was refused but its refusal could not be recorded", ex.id)

    def _account(self, ex: Exchange, status: int) -> None:
        """Metrics and one log line per request: ids, mode, status, entity types; no content."""
        destination = ex.destination_host or ("local" if ex.mode == "local" else "upstream")
        # Personal-mode identities are per credential (unbounded): one metrics label for all.
        who = ex.identity if ex.bound_apps is not None else "personal"
        self.metrics.request(ex.mode, status, destination, who)
        counts = ex.entity_counts()
        self.metrics.removed(counts)
        if "audit_egress" in ex.timings:
            self.metrics.added_latency(ex.timings["audit_egress"] / 1000)
        log.info(
            "request %s identity=%s app=%s route=%s mode=%s status=%s audit=%s entities=%s",
            ex.id,
            ex.identity,
            ex.app,
            ex.policy_route or "-",
            ex.mode,
            status,
            ",".join(ex.audit_ids) or "-",
            ",".join(f"{t}:{n}" for t, n in sorted(counts.items())) or "-",
        )

    async def _handle(self, ex: Exchange) -> Reply:
        for name, stage, offload in self.stages:
            await self._run_stage(name, stage, offload, ex)
        runner = self.runners.get(ex.mode)
        if runner is None:
            raise StageFailed(
                f"mode {ex.mode!r} is not available in this gateway; choose one of "
                f"{sorted(self.runners)} in the policy"
            )
        reply = await runner.run(ex, self.gate)
        if ex.on_stored is not None and not isinstance(runner, ForwardRunner):
            _remember_answer(ex, reply)  # an answer written here, under the id it was given
        reply.headers["x-cogate-mode"] = ex.mode
        if ex.audit_ids:
            reply.headers["x-cogate-audit-id"] = ex.audit_ids[0]
        reply.headers.update(ex.response_headers)
        return reply

    async def _run_stage(self, name: str, stage: Stage, offload: Offload, ex: Exchange) -> None:
        try:
            with anyio.fail_after(self.stage_budget_s):
                if self._async[id(stage)]:
                    await cast(Awaitable[None], stage(ex))
                elif not offload(ex):
                    stage(ex)
                else:
                    # A stage over budget is abandoned (its thread finishes on its own) and
                    # the request is refused.
                    await anyio.to_thread.run_sync(stage, ex, abandon_on_cancel=True)
        except GatewayError:
            raise
        except TimeoutError:
            log.error(
                "stage %s exceeded its %.1fs budget; request %s refused",
                name,
                self.stage_budget_s,
                ex.id,
            )
            raise StageFailed(
                f"the {name} stage took longer than its {self.stage_budget_s:g}s budget; the "
                "request was refused and nothing was sent",
                status=503,
                code="pipeline_stage_timeout",
            ) from None
        except Exception as exc:
            # The exception's message may quote request content: log its type only.
            log.error(
                "stage %s failed with %s; request %s refused", name, type(exc).__name__, ex.id
            )
            raise StageFailed(
                f"the {name} stage failed ({type(exc).__name__}); the request was refused "
                "and nothing was sent"
            ) from None
        ex.mark(name)
