"""One pipeline for every request: resolve policy → detect and transform → run the mode.

A stage that raises refuses the request; nothing is forwarded unless every stage before
the egress gate succeeded (fail closed). Runners decide what a mode sends: forwarding the
sanitized request (passthrough, redact) or a collaboration strategy (sketch, logits, local).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import anyio

from . import sse
from .egress import EgressGate, UpstreamReply
from .errors import GatewayError, PolicyBlocked, StageFailed, UpstreamUnreachable
from .exchange import Exchange
from .metrics import Metrics

log = logging.getLogger("cogate.pipeline")

Stage = Callable[[Exchange], None] | Callable[[Exchange], Awaitable[None]]
# Whether a synchronous stage must run in a worker thread for this exchange (CPU-heavy work
# such as detection) or may run inline (microseconds: a thread hop would cost more).
Offload = Callable[[Exchange], bool]


def always(ex: Exchange) -> bool:
    return True


def never(ex: Exchange) -> bool:
    return False


@dataclass
class Reply:
    """What the HTTP edge sends back: a whole body or a stream of bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    media_type: str = "application/json"


class Runner(Protocol):
    async def run(self, ex: Exchange, gate: EgressGate) -> Reply: ...


class ForwardRunner:
    """passthrough and redact: forward the (sanitized) request, restore the answer."""

    async def run(self, ex: Exchange, gate: EgressGate) -> Reply:
        if "surface" in ex.notes:  # Anthropic Messages: bridge until the surface seam lands
            from .surfaces import bridge

            return await bridge.forward(ex, gate)
        method = "GET" if ex.route == "models" else "POST"
        body = ex.outbound_body
        if body is None and method == "POST":
            if ex.mode != "passthrough":
                # Never fall back to the app's own body when it was meant to be sanitized.
                raise StageFailed(
                    "no sanitized request was produced, so nothing was sent",
                    code="pipeline_no_sanitized_body",
                )
            body = ex.body
        upstream = await gate.send(
            ex, ex.route, body if method == "POST" else None, stream=ex.stream, method=method
        )
        if upstream.response is not None:
            return Reply(
                status=upstream.status,
                headers=upstream.headers,
                stream=self._relay(ex, upstream),
                media_type=upstream.headers.get("content-type", "text/event-stream"),
            )
        content = upstream.content
        if upstream.status < 400 and ex.findings:
            try:
                answer = json.loads(content)
            except ValueError:
                # The app cannot be given its own values back in an answer we cannot read.
                raise UpstreamUnreachable(
                    "the upstream answered with a body that is not JSON, so cogate could not "
                    "restore your values in it",
                    code="upstream_bad_response",
                ) from None
            content = json.dumps(ex.restorer.restore_json(answer), ensure_ascii=False).encode()
        return Reply(
            status=upstream.status,
            headers=upstream.headers,
            body=content,
            media_type=upstream.headers.get("content-type", "application/json"),
        )

    async def _relay(self, ex: Exchange, upstream: UpstreamReply) -> AsyncIterator[bytes]:
        restorer = ex.restorer.stream() if ex.findings else None
        try:
            if restorer is None:
                async for chunk in upstream.chunks():
                    yield chunk
                return
            done = False
            async for event in sse.iter_events(upstream.chunks()):
                data = sse.event_data(event)
                if data is sse.DONE:
                    done = True
                    for out in restorer.finish():
                        yield sse.encode_event(out)
                    yield sse.DONE_EVENT
                elif isinstance(data, dict):
                    if data.get("usage"):
                        ex.notes["usage"] = data["usage"]
                    for out in restorer.feed(data):
                        yield sse.encode_event(out)
                else:
                    yield event + b"\n\n"
            if not done:
                # A stream that ended without [DONE]: the text held back belongs to the app.
                for out in restorer.finish():
                    yield sse.encode_event(out)
        except GatewayError as exc:
            # The upstream broke or stalled after the answer began: end the stream cleanly
            # with an error event (OpenAI's SDKs raise it) instead of cutting the connection.
            if restorer is not None:
                for out in restorer.finish():
                    yield sse.encode_event(out)
            yield b"\n\n" + sse.encode_event(exc.body())


class BlockRunner:
    async def run(self, ex: Exchange, gate: EgressGate) -> Reply:
        raise PolicyBlocked(f"the policy {ex.policy_id!r} blocks requests from app {ex.app!r}")


def _is_async(stage: Stage) -> bool:
    call = type(stage).__call__ if not inspect.isfunction(stage) else stage
    return inspect.iscoroutinefunction(stage) or inspect.iscoroutinefunction(call)


class Pipeline:
    def __init__(
        self,
        gate: EgressGate,
        *,
        stages: list[tuple[str, Stage] | tuple[str, Stage, Offload]],
        runners: dict[str, Runner],
        stage_budget_s: float = 30.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.gate = gate
        self.stages = [(step[0], step[1], step[2] if len(step) > 2 else always) for step in stages]
        self.runners = runners
        self.stage_budget_s = stage_budget_s
        self.metrics = metrics or gate.metrics

    async def handle(self, ex: Exchange) -> Reply:
        status = 500
        try:
            reply = await self._handle(ex)
            status = reply.status
            return reply
        except GatewayError as exc:
            status = exc.status
            raise
        finally:
            self._account(ex, status)

    def _account(self, ex: Exchange, status: int) -> None:
        """Metrics and one log line per request: ids, mode, status, entity types; no content."""
        destination = ex.destination_host or ("local" if ex.mode == "local" else "upstream")
        self.metrics.request(ex.mode, status, destination)
        counts = ex.entity_counts()
        self.metrics.removed(counts)
        if "audit_egress" in ex.timings:
            self.metrics.added_latency(ex.timings["audit_egress"] / 1000)
        log.info(
            "request %s app=%s mode=%s status=%s audit=%s entities=%s",
            ex.id,
            ex.app,
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
        reply.headers["x-cogate-mode"] = ex.mode
        if ex.audit_ids:
            reply.headers["x-cogate-audit-id"] = ex.audit_ids[0]
        reply.headers.update(ex.response_headers)
        return reply

    async def _run_stage(self, name: str, stage: Stage, offload: Offload, ex: Exchange) -> None:
        try:
            with anyio.fail_after(self.stage_budget_s):
                if _is_async(stage):
                    await stage(ex)
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
