"""Build the pipeline and the parts it owns for the lifetime of one gateway process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from .egress import EgressGate
from .intercept_secret import rotate_secret
from .pipeline import BlockRunner, ForwardRunner, Pipeline
from .settings import Settings
from .upstream import build_client


@asynccontextmanager
async def assemble_pipeline(settings: Settings) -> AsyncIterator[Pipeline]:
    from cogate.audit import open_ledger
    from cogate.policies import Privacy

    # Loading the policy and spaCy takes seconds: keep the event loop free meanwhile. A broken
    # policy stops start-up here rather than failing requests later.
    privacy = await anyio.to_thread.run_sync(Privacy, settings)
    ledger = open_ledger(settings)
    # A new secret per gateway start: an addon started against an older gateway is refused.
    rotate_secret(settings.data_dir)
    client = build_client(settings)
    gate = EgressGate(settings, client, ledger)
    try:
        forward = ForwardRunner()
        yield Pipeline(
            gate,
            stages=[
                ("resolve policy", privacy.resolve),
                ("detect and transform", privacy.sanitize),
            ],
            runners={"passthrough": forward, "redact": forward, "block": BlockRunner()},
            stage_budget_s=settings.stage_budget_s,
        )
    finally:
        await gate.drain()
        await client.aclose()
        await anyio.to_thread.run_sync(ledger.close)
