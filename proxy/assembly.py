"""Build the pipeline and the parts it owns for the lifetime of one gateway process.

The one wiring of the gateway: tests and benchmarks override exactly the part they replace
(the network, the ledger, the privacy engine, the local model, a mode's runner) and get
every other part as `cogate serve` builds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from cogate.audit import open_ledger
from cogate.audit.records import Ledger
from cogate.collab import Endpoint, HttpModel, LocalRuntime, build_collab
from cogate.collab.logits import LogitsRunner
from cogate.core.database import Database
from cogate.core.egress import Runner
from cogate.core.exchange import Exchange, Sanitizer
from cogate.core.settings import Settings
from cogate.policies import Privacy
from cogate.policies.vault.backends import open_vault_backends
from cogate.policies.vault.quotas import Quotas
from cogate.proxy.egress.gate import EgressGate
from cogate.proxy.intercept.secret import rotate_secret, shared_secret
from cogate.proxy.metrics import Metrics
from cogate.proxy.pipeline import ForwardRunner, Pipeline, never
from cogate.proxy.reach import UpstreamProbe
from cogate.proxy.reload import PolicyReloader
from cogate.proxy.telemetry import Telemetry, attach_sink
from cogate.proxy.upstream.client import build_client
from opentelemetry.sdk.trace.export import SpanExporter


def _detects(ex: Exchange) -> bool:
    # Detection runs Presidio and spaCy: a worker thread, and only redact mode has any.
    return ex.mode == "redact"


@asynccontextmanager
async def assemble_pipeline(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    ledger: Ledger | None = None,
    privacy: Sanitizer | None = None,
    model: LocalRuntime | None = None,
    runners: Mapping[str, Runner] | None = None,
    logits: Mapping[str, Any] | None = None,
    database: Database | None = None,
    endpoint: Endpoint | None = None,
    span_exporter: SpanExporter | None = None,
) -> AsyncIterator[Pipeline]:
    """Everything a gateway process needs. `transport` replaces the network, `ledger` the
    audit store, `privacy` the privacy engine, `model` the local model (shared, not closed
    here), `runners` the runner of a mode; `logits` are LogitsRunner keyword arguments
    (its `fallbacks` default to the sketch and local runners); `database` is the shared
    database's pool, opened by the app beside the tokens; `endpoint` is the user's runtime
    as serve checked and pinned it (`--local-url`); `span_exporter` receives the request
    spans (default: OTLP/HTTP when `settings.otel_endpoint` is set, else none)."""
    # Loading the policy and spaCy takes seconds: keep the event loop free meanwhile. A
    # broken policy stops start-up here rather than failing requests later.
    if privacy is None:
        vaults = open_vault_backends(
            database or settings.database_url,
            settings.data_dir / "keys",
            Quotas.from_settings(settings),
        )
        engine: Sanitizer = await anyio.to_thread.run_sync(Privacy, settings, vaults)
    else:
        engine = privacy
    ledger = ledger if ledger is not None else open_ledger(settings, database)
    # A new secret per gateway start: an addon started against an older gateway is refused.
    # Replicas on one database share the data dir, so there the secret is kept, not rotated.
    (shared_secret if settings.database_url else rotate_secret)(settings.data_dir)
    client = build_client(settings, transport=transport)
    metrics = Metrics()
    gate = EgressGate(settings, client, ledger, metrics)
    sink = attach_sink(settings, ledger, metrics)
    telemetry = Telemetry.from_settings(settings, span_exporter)
    # The local model loads on first use of a collaboration mode, not at start-up.
    collab = build_collab(settings, engine, model=model, endpoint=endpoint)
    if isinstance(collab.model, HttpModel) and model is None:
        # The user's runtime is probed once now (health shows what it can do); one that is
        # down is probed again by the first request that needs it, which gets 503 meanwhile.
        await collab.model.ready_quietly()
    metrics.queue_depth = lambda: collab.model.in_use
    metrics.worker_deaths(lambda: collab.model.status().get("worker", {}).get("deaths", 0))
    # Detection's health: a sanitizer without a NER worker (another Sanitizer) reports none.
    detection_status: Callable[[], dict[str, Any]] = getattr(engine, "detection_status", dict)
    metrics.ner_worker_deaths(lambda: detection_status().get("ner_worker", {}).get("deaths", 0))
    forward = ForwardRunner(settings.max_sse_event_bytes)
    modes: dict[str, Runner] = {
        "passthrough": forward,
        "redact": forward,
        **collab.runners,
        **(runners or {}),
    }
    if "logits" not in modes:
        fallbacks = {name: modes[name] for name in ("sketch", "local") if name in modes}
        options = {"fallbacks": fallbacks, **(logits or {})}
        modes["logits"] = LogitsRunner(settings, collab.model, engine, **options)
    # The policy file is watched (and SIGHUP reloads it) while the gateway runs.
    watcher = None
    if isinstance(engine, Privacy):
        reloader = PolicyReloader(engine, settings.policy)
        reloader.on_sighup()
        watcher = asyncio.get_running_loop().create_task(reloader.watch())
    try:
        yield Pipeline(
            gate,
            stages=[
                # Choosing a policy is a few dictionary look-ups (inline), unless a route
                # matches on findings or sticks to a conversation.
                ("resolve policy", engine.resolve, getattr(engine, "resolve_detects", never)),
                ("detect and transform", engine.sanitize, _detects),
            ],
            runners=modes,
            stage_budget_s=settings.stage_budget_s,
            metrics=metrics,
            local_status=collab.model.status,
            detection_status=detection_status,
            # The real network's upstreams; a replaced `transport` has none to probe.
            upstream_status=UpstreamProbe(settings).status if transport is None else None,
            telemetry=telemetry,
        )
    finally:
        if watcher is not None:
            watcher.cancel()
            reloader.off_sighup()
        await collab.aclose()
        await gate.drain()
        await client.aclose()
        await anyio.to_thread.run_sync(ledger.close)
        if sink is not None:
            await anyio.to_thread.run_sync(sink.close)
        if telemetry is not None:
            await anyio.to_thread.run_sync(telemetry.close)
