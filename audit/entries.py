"""Turn the gateway's records into ledger entry fields (everything but seq, prev and time).

This is the only place removed values are touched: each becomes an HMAC tag and is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from typing import Any

from .hashing import sha256_text
from .records import CompletionRecord, EgressRecord

ENTRY_VERSION = 1
# The canonical JSON form the policy hash (`policy.hash`) covers. Entries written before this
# field existed hashed the policy over Python's json.dumps(sort_keys=True, separators=(",",
# ":"), ensure_ascii=False); `cogate policy check` prints the current form's hash.
POLICY_HASH_CANON = "rfc8785"
TAG_PREFIX = "hmac-sha256:"


def tag(key: bytes, value: str) -> str:
    # The value alone is tagged (not its type) so one value found by two recognizers
    # still correlates across entries.
    return TAG_PREFIX + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _clean(value: Any) -> Any:
    """JSON-safe for RFC 8785: non-finite floats become null, other objects strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def egress_fields(record: EgressRecord, hmac_key: bytes) -> tuple[dict[str, Any], bytes | None]:
    """The entry fields and the body to store (None when only its hash is kept)."""
    if record.kind not in ("egress", "local"):
        raise ValueError(f"egress kind must be 'egress' or 'local', got {record.kind!r}")
    tags = sorted({(etype, tag(hmac_key, value)) for etype, value in record.removed_values})
    body = record.body or b""
    fields: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "kind": record.kind,
        "exchange": record.exchange_id,
        "app": record.app,
        "destination": {
            "host": record.destination_host,
            "path": record.destination_path,
            "method": record.method,
        },
        "model": record.model,
        "mode": record.mode,
        "policy": {
            "id": record.policy_id,
            "hash": record.policy_hash,
            "canon": POLICY_HASH_CANON,
        },
        "entities": {str(k): int(v) for k, v in sorted(record.entity_counts.items())},
        "tags": [{"type": t, "tag": h} for t, h in tags],
        "body": {
            "hash": sha256_text(body),
            "size": len(body),
            "stored": bool(record.store_body) and bool(body),
        },
        "note": _clean(record.note),
    }
    if record.identity:
        fields["identity"] = record.identity
    stored = body
    if record.masked and fields["body"]["stored"]:
        # The stored copy has credentials masked; its own hash lets verify check it.
        stored, count = mask_credentials(body, record.masked)
        fields["body"].update(masked=count, stored_hash=sha256_text(stored))
    return fields, (stored if fields["body"]["stored"] else None)


def mask_credentials(body: bytes, secrets: list[str]) -> tuple[bytes, int]:
    """`body` with every credential (as JSON writes it, escaped or not) replaced."""
    count = 0
    for secret in sorted(set(secrets), key=len, reverse=True):
        if not secret:
            continue
        for form in {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}:
            raw = form.encode("utf-8")
            count += body.count(raw)
            body = body.replace(raw, b"[CREDENTIAL]")
    return body, count


def egress_seq(audit_id: str) -> int:
    try:
        seq = int(audit_id)
    except (TypeError, ValueError):
        raise ValueError(f"not a ledger audit id: {audit_id!r}") from None
    if seq < 1:
        raise ValueError(f"not a ledger audit id: {audit_id!r}")
    return seq


def completion_fields(record: CompletionRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "kind": "completion",
        "egress": egress_seq(record.egress_id),
        "exchange": record.exchange_id,
        "status": record.status,
        "outcome": record.outcome,
        "timings": _clean(record.timings),
        "usage": _clean(record.usage),
        "error": record.error,
    }
    if record.identity:
        fields["identity"] = record.identity
    if record.restore_withheld:
        fields["restore"] = {"withheld": int(record.restore_withheld)}
    return fields
