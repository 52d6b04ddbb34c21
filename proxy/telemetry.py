"""What the gateway tells other systems as it runs: the audit sink (each ledger entry's
metadata, `--audit-sink`) and OpenTelemetry spans, one per request, following the GenAI
semantic conventions (OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set).

A span carries the mode, the route, entity counts by type and the audit id; never a value,
a prompt or an answer (the conventions' opt-in content attributes are not set).
"""

from __future__ import annotations

from typing import Any

from cogate.audit.compliance.sinks import AuditSink, parse_sink
from cogate.audit.ledger import ChainLedger
from cogate.audit.records import Ledger
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.proxy.metrics import Metrics
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

# gen_ai.operation.name by upstream route (the conventions' well-known values).
OPERATIONS = {
    "chat/completions": "chat",
    "responses": "chat",
    "messages": "chat",
    "v1/messages": "chat",
    "completions": "text_completion",
    "embeddings": "embeddings",
}


def attach_sink(settings: Settings, ledger: Ledger, metrics: Metrics) -> AuditSink | None:
    """The audit sink `settings.audit_sink` names, fed by the ledger's commits."""
    if not settings.audit_sink or not isinstance(ledger, ChainLedger):
        return None
    sink = AuditSink(parse_sink(settings.audit_sink), capacity=settings.audit_sink_buffer)
    ledger.listeners.append(sink.offer)
    metrics.audit_sink(lambda: sink.dropped, lambda: sink.pending)
    return sink


class Telemetry:
    """One gateway's tracer provider (its own, not the process-wide one)."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.provider = TracerProvider(resource=Resource.create({"service.name": "cogate"}))
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("cogate.gateway")

    @classmethod
    def from_settings(
        cls, settings: Settings, exporter: SpanExporter | None = None
    ) -> Telemetry | None:
        if exporter is None and settings.otel_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = settings.otel_endpoint.rstrip("/") + "/v1/traces"
            exporter = OTLPSpanExporter(endpoint=endpoint)
        return cls(exporter) if exporter is not None else None

    def start(self, ex: Exchange) -> Span:
        operation = OPERATIONS.get(ex.route.split("?", 1)[0].strip("/"), "chat")
        name = f"{operation} {ex.model}" if ex.model else operation
        return self.tracer.start_span(name, kind=SpanKind.CLIENT)

    def end(self, span: Span, ex: Exchange, status: int) -> None:
        for key, value in attributes(ex, status).items():
            span.set_attribute(key, value)
        if status >= 400:
            span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("error.type", str(status))
        span.end()

    def close(self) -> None:
        self.provider.shutdown()  # flushes what the batch processor holds


def attributes(ex: Exchange, status: int) -> dict[str, Any]:
    operation = OPERATIONS.get(ex.route.split("?", 1)[0].strip("/"), "chat")
    counts = ex.entity_counts()
    out: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": ex.surface.upstream if ex.surface is not None else "openai",
        "http.response.status_code": status,
        "cogate.mode": ex.mode,
        "cogate.route": ex.policy_route or "-",
        "cogate.policy": ex.policy_id,
        "cogate.app": ex.app,
        "cogate.identity": ex.identity,
        "cogate.entities.total": sum(counts.values()),
        "cogate.audit_id": ",".join(ex.audit_ids),
    }
    if ex.model:
        out["gen_ai.request.model"] = ex.model
    if ex.destination_host:
        out["server.address"] = ex.destination_host
    for etype, n in sorted(counts.items()):
        out[f"cogate.entities.{etype}"] = n
    usage = ex.usage or {}
    for ours, theirs in (
        ("gen_ai.usage.input_tokens", ("prompt_tokens", "input_tokens")),
        ("gen_ai.usage.output_tokens", ("completion_tokens", "output_tokens")),
    ):
        value = next((usage[k] for k in theirs if isinstance(usage.get(k), int)), None)
        if value is not None:
            out[ours] = value
    return out
