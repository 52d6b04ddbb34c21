"""Build the pipeline and the parts it owns for the lifetime of one gateway process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from .egress import EgressGate
from .pipeline import BlockRunner, ForwardRunner, Pipeline, passthrough_stage
from .settings import Settings
from .upstream import build_client


@asynccontextmanager
async def assemble_pipeline(settings: Settings) -> AsyncIterator[Pipeline]:
    from cogate.audit import open_ledger

    ledger = open_ledger(settings)
    client = build_client(settings)
    try:
        gate = EgressGate(settings, client, ledger)
        forward = ForwardRunner()
        yield Pipeline(
            gate,
            stages=[("sanitize", passthrough_stage)],
            runners={"passthrough": forward, "redact": forward, "block": BlockRunner()},
            stage_budget_s=settings.stage_budget_s,
        )
    finally:
        await client.aclose()
        await anyio.to_thread.run_sync(ledger.close)
