"""Turn the gateway's records into ledger entry fields (everything but seq, prev and time).

This is the only place removed values are touched: each becomes an HMAC tag and is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import unicodedata
from typing import Any

from .hashing import sha256_text
from .records import CompletionRecord, EgressRecord

ENTRY_VERSION = 1
# The canonical JSON form the policy hash (`policy.hash`) covers. Entries written before this
# field existed hashed the policy over Python's json.dumps(sort_keys=True, separators=(",",
# ":"), ensure_ascii=False); `cogate policy check` prints the current form's hash.
POLICY_HASH_CANON = "rfc8785"
TAG_PREFIX = "hmac-sha256:"


# How values are normalised before tagging (`tag_form` of an entry): entries without the
# field tagged the value exactly as found.
TAG_FORM = "nfkc-casefold-space"
# What the ledger says was done to a value, by kind of entry and policy action.
DONE = {
    "pseudonymize": "pseudonymized",
    "mask": "masked",
    "hash": "hashed",
    "drop": "dropped",
    "block": "blocked",
}


def normalise(value: str) -> str:
    """A value as a data-subject search matches it: Unicode-compatible form, case-folded,
    runs of white space as one space (`Jane  DOE` and `jane doe` are one person)."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def tag(key: bytes, value: str) -> str:
    # The value alone is tagged (not its type) so one value found by two recognizers
    # still correlates across entries.
    return TAG_PREFIX + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def value_tags(key: bytes, value: str) -> set[str]:
    """The tags an entry may hold for `value`: normalised, and as found (older entries)."""
    return {tag(key, normalise(value)), tag(key, value)}


def _tags(record: EgressRecord, hmac_key: bytes) -> list[dict[str, str]]:
    if record.kind == "refusal":
        done = {t: "blocked" for t, _ in record.removed_values}  # nothing left at all
    elif record.kind == "local":
        done = {t: "answered locally" for t, _ in record.removed_values}
    else:
        done = {t: DONE.get(a, a) for t, a in record.actions.items()}
    tags = sorted({(t, tag(hmac_key, normalise(v))) for t, v in record.removed_values})
    return [{"type": t, "tag": h, "action": done.get(t, "removed")} for t, h in tags]


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
    if record.kind not in ("egress", "local", "refusal"):
        raise ValueError(f"egress kind must be 'egress', 'local' or 'refusal', got {record.kind!r}")
    tags = _tags(record, hmac_key)
    body = b"" if record.kind == "refusal" else (record.body or b"")
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
        "tags": tags,
        "body": {
            "hash": sha256_text(body),
            "size": len(body),
            "stored": bool(record.store_body) and bool(body),
        },
        "note": _clean(record.note),
    }
    if tags:
        fields["tag_form"] = TAG_FORM
    if record.identity:
        fields["identity"] = record.identity
    _who(fields, record)
    if record.kind == "refusal":
        del fields["body"]  # nothing left and nothing is kept: a refusal has no body
        fields["refusal"] = _clean(record.refusal)
        return fields, None
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


def _who(fields: dict[str, Any], record: EgressRecord) -> None:
    """Which route applied, which wire API, which apps the caller's token is bound to."""
    if record.route is not None:
        fields["route"] = record.route
    if record.surface:
        fields["surface"] = record.surface
    if record.bound_apps is not None:
        fields["apps"] = list(record.bound_apps)


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
