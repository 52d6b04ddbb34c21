"""Test doubles for unit tests of the gateway: an in-memory ledger and a scripted upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from cogate.audit.records import CompletionRecord, EgressRecord
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.proxy.egress import EgressGate
from cogate.proxy.pipeline import BlockRunner, ForwardRunner, Pipeline, Stage
from cogate.proxy.upstream import build_client


class ListLedger:
    """Keeps records in memory; `fail` makes every append raise, like a read-only disk."""

    def __init__(self) -> None:
        self.egress: list[EgressRecord] = []
        self.completions: list[CompletionRecord] = []
        self.fail = False
        self.closed = False

    def append_egress(self, record: EgressRecord) -> str:
        if self.fail:
            raise OSError("disk full")
        self.egress.append(record)
        return str(len(self.egress) + len(self.completions))

    def append_completion(self, record: CompletionRecord) -> str:
        if self.fail:
            raise OSError("disk full")
        self.completions.append(record)
        return str(len(self.egress) + len(self.completions))

    def close(self) -> None:
        self.closed = True


def passthrough_stage(ex: Exchange) -> None:
    """Forward untouched: the gateway's HTTP behaviour without the privacy engine."""
    ex.mode = "passthrough"
    ex.outbound_body = ex.body


def assembler(
    handler: Callable[[httpx.Request], httpx.Response] | httpx.AsyncBaseTransport,
    ledger: ListLedger,
    stages: list[tuple[str, Stage]] | None = None,
):
    """An `assemble` for create_app with upstream `handler` (MockTransport) and `ledger`."""

    @asynccontextmanager
    async def assemble(settings: Settings) -> AsyncIterator[Pipeline]:
        transport = (
            handler
            if isinstance(handler, httpx.AsyncBaseTransport)
            else httpx.MockTransport(handler)
        )
        client = build_client(settings, transport=transport)
        forward = ForwardRunner()
        gate = EgressGate(settings, client, ledger)
        yield Pipeline(
            gate,
            stages=stages if stages is not None else [("sanitize", passthrough_stage)],
            runners={"passthrough": forward, "redact": forward, "block": BlockRunner()},
            stage_budget_s=settings.stage_budget_s,
        )
        await gate.drain()
        await client.aclose()
        ledger.close()

    return assemble
