"""Test doubles for unit tests of the gateway: an in-memory ledger and a scripted upstream."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from cogate.audit.records import CompletionRecord, EgressRecord
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.proxy.assembly import assemble_pipeline
from cogate.proxy.pipeline import Pipeline


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
    ex.outbound = ex.raw


class StagePrivacy:
    """A privacy engine (core's Sanitizer) whose detection is `stage`; requests start in
    redact mode, so the stage runs in a worker thread under the stage budget."""

    def __init__(self, stage: Callable[[Exchange], None] = passthrough_stage) -> None:
        self.stage = stage

    def resolve(self, ex: Exchange) -> None:
        ex.mode = "redact"

    def sanitize(self, ex: Exchange) -> None:
        self.stage(ex)

    def sanitize_text(self, ex: Exchange, text: str, field: str) -> str:
        return text

    def private_spans(self, ex: Exchange, text: str) -> list[tuple[str, int, int]]:
        return []


def assembler(
    handler: Callable[[httpx.Request], httpx.Response] | httpx.AsyncBaseTransport,
    ledger: ListLedger,
    stage: Callable[[Exchange], None] | None = None,
) -> Callable[[Settings], AbstractAsyncContextManager[Pipeline]]:
    """An `assemble` for create_app with upstream `handler` (MockTransport) and `ledger`."""
    transport = (
        handler if isinstance(handler, httpx.AsyncBaseTransport) else httpx.MockTransport(handler)
    )
    privacy = StagePrivacy(stage or passthrough_stage)
    return lambda settings: assemble_pipeline(
        settings, transport=transport, ledger=ledger, privacy=privacy
    )
