"""The ledger records of one exchange: the write-ahead egress entry (what leaves, or that
nothing did) and the completion entry written once the answer was read."""

from __future__ import annotations

import time
from typing import Any

from cogate.audit.records import CompletionRecord, EgressRecord
from cogate.core.exchange import Exchange


def egress_record(
    ex: Exchange,
    *,
    host: str,
    path: str,
    method: str,
    model: str | None,
    body: bytes,
    note: dict[str, Any] | None,
) -> EgressRecord:
    """What leaves for `host`: the exact bytes (or their hash, per policy) and what was
    removed from them."""
    return EgressRecord(
        exchange_id=ex.id,
        app=ex.app,
        destination_host=host,
        destination_path=path,
        method=method,
        model=model,
        mode=ex.mode,
        policy_id=ex.policy_id,
        policy_hash=ex.policy_hash,
        entity_counts=ex.entity_counts(),
        removed_values=ex.removed,
        body=body,
        store_body=ex.store_body,
        masked=ex.credentials,
        note=note or {},
        identity=ex.identity,
    )


def local_record(ex: Exchange, note: dict[str, Any] | None) -> EgressRecord:
    """That the exchange was answered on the device: nothing left."""
    return EgressRecord(
        exchange_id=ex.id,
        app=ex.app,
        destination_host="local",
        destination_path="",
        method="NONE",
        model=ex.model,
        mode=ex.mode,
        policy_id=ex.policy_id,
        policy_hash=ex.policy_hash,
        entity_counts=ex.entity_counts(),
        removed_values=[],
        body=b"",
        kind="local",
        note=note or {},
        identity=ex.identity,
    )


def completion_record(
    ex: Exchange,
    audit_id: str,
    sent: float,
    status: int | None,
    outcome: str,
    error: str | None,
    usage: Any = None,
) -> CompletionRecord:
    """How the call that left at `sent` (perf_counter) ended."""
    timings = dict(ex.timings)
    timings["upstream_ms"] = round((time.perf_counter() - sent) * 1000, 3)
    return CompletionRecord(
        egress_id=audit_id,
        exchange_id=ex.id,
        status=status,
        outcome=outcome,
        timings=timings,
        usage=usage if usage is not None else ex.usage,
        error=error,
        identity=ex.identity,
        restore_withheld=ex.restorer.withheld,
    )
