"""The ledger records of one exchange: the write-ahead egress entry (what leaves, or that
nothing did) and the completion entry written once the answer was read."""

from __future__ import annotations

import time
from typing import Any

from cogate.audit.records import CompletionRecord, EgressRecord
from cogate.core.errors import GatewayError
from cogate.core.exchange import Exchange
from cogate.policies.schema import Policy


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
        note=with_caller(ex, note),
        identity=ex.identity,
        **_who(ex),
        actions=_actions(ex),
    )


REFUSAL_NOTES = ("collab", "sensitive_task", "sensitive_categories")


def _who(ex: Exchange) -> dict[str, Any]:
    """The route that applied, the wire API and the token's apps, for every kind of entry."""
    return {
        "route": ex.policy_route,
        "surface": ex.surface.name if ex.surface is not None else "",
        "bound_apps": ex.bound_apps,
    }


def _actions(ex: Exchange) -> dict[str, str]:
    """The policy's action for each type removed (what the ledger says was done)."""
    if not isinstance(ex.policy, Policy):
        return {}
    return {etype: ex.policy.action_for(etype) for etype, _ in ex.removed}


def refusal_record(ex: Exchange, error: GatewayError) -> EgressRecord:
    """That the policy refused the exchange: who, which route, which types (no body)."""
    return EgressRecord(
        exchange_id=ex.id,
        app=ex.app,
        destination_host=ex.destination_host or "",
        destination_path=ex.route.split("?", 1)[0],
        method=ex.method,
        model=ex.model,
        mode=ex.mode,
        policy_id=ex.policy_id,
        policy_hash=ex.policy_hash,
        entity_counts=ex.entity_counts(),
        removed_values=ex.removed,
        body=b"",
        store_body=False,
        kind="refusal",
        # Only what the refusal is about (never the collaboration modes' outlines).
        note={k: ex.notes[k] for k in REFUSAL_NOTES if k in ex.notes},
        identity=ex.identity,
        **_who(ex),
        refusal={"status": error.status, "code": error.code},
    )


def with_caller(ex: Exchange, note: dict[str, Any] | None) -> dict[str, Any]:
    """The entry's note, with what decided its treatment on a shared gateway: the app the
    caller's token is bound to (the entry's `app` is the label it sent) and the policy
    route that applied. Kept in the note so the entry format stays as it is."""
    out = dict(note or {})
    caller: dict[str, str | None] = {}
    if ex.policy_route is not None:
        caller["route"] = ex.policy_route
        if ex.policy_route_reason:
            caller["route_reason"] = ex.policy_route_reason
    if ex.bound_apps is not None:
        caller["bound_app"] = ex.routed_app
    if caller:
        out["caller"] = caller
    return out


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
        # Tagged (never stored) so a data-subject search finds what was answered locally.
        removed_values=ex.removed,
        body=b"",
        kind="local",
        note=with_caller(ex, note),
        identity=ex.identity,
        **_who(ex),
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
