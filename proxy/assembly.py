"""Build the pipeline and the parts it owns for the lifetime of one gateway process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from cogate.audit import open_ledger
from cogate.collab import build_collab
from cogate.collab.logits import LogitsRunner
from cogate.core.settings import Settings
from cogate.policies import Privacy

from .egress import EgressGate
from .intercept_secret import rotate_secret
from .metrics import Metrics
from .pipeline import BlockRunner, ForwardRunner, Pipeline, never
from .upstream import build_client


@asynccontextmanager
async def assemble_pipeline(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Pipeline]:
    """Everything a gateway process needs; `transport` replaces the network (unit tests)."""
    # Loading the policy and spaCy takes seconds: keep the event loop free meanwhile. A broken
    # policy stops start-up here rather than failing requests later.
    privacy = await anyio.to_thread.run_sync(Privacy, settings)
    ledger = open_ledger(settings)
    # A new secret per gateway start: an addon started against an older gateway is refused.
    rotate_secret(settings.data_dir)
    client = build_client(settings, transport=transport)
    metrics = Metrics()
    gate = EgressGate(settings, client, ledger, metrics)
    # The local model loads on first use of a collaboration mode, not at start-up.
    collab = build_collab(settings, privacy)
    metrics.queue_depth = lambda: collab.model.in_use
    logits = LogitsRunner(settings, collab.model, privacy, fallbacks=collab.runners)
    try:
        forward = ForwardRunner()
        yield Pipeline(
            gate,
            stages=[
                # Choosing a policy is a few dictionary look-ups: inline. Detection runs
                # Presidio and spaCy: in a worker thread, and only redact mode has any.
                ("resolve policy", privacy.resolve, never),
                ("detect and transform", privacy.sanitize, lambda ex: ex.mode == "redact"),
            ],
            runners={
                "passthrough": forward,
                "redact": forward,
                "block": BlockRunner(),
                **collab.runners,
                "logits": logits,
            },
            stage_budget_s=settings.stage_budget_s,
            metrics=metrics,
        )
    finally:
        await collab.aclose()
        await gate.drain()
        await client.aclose()
        await anyio.to_thread.run_sync(ledger.close)
