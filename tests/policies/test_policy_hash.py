"""The policy hash covers RFC 8785 canonical JSON, like every other hash in the ledger."""

from __future__ import annotations

import hashlib
import json

import rfc8785
from cogate.audit.entries import POLICY_HASH_CANON, egress_fields
from cogate.audit.records import EgressRecord
from cogate.policies.schema import Policy, policy_from_data


def test_the_hash_is_sha256_over_rfc8785_of_the_effective_policy() -> None:
    policy = policy_from_data({"mode": "redact", "score_threshold": 1.0}, "test")
    expected = hashlib.sha256(rfc8785.dumps(policy.model_dump(mode="json"))).hexdigest()
    assert policy.content_hash() == "sha256:" + expected
    # The old form wrote 1.0 where RFC 8785 writes 1: the recorded hash did change.
    old = json.dumps(
        policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert policy.canonical() != old
    assert b'"score_threshold":1,' in policy.canonical()


def test_key_order_and_unicode_do_not_change_the_hash() -> None:
    a = Policy.model_validate({"mode": "redact", "allow_list": ["Zoë"], "description": "é"})
    b = Policy.model_validate({"description": "é", "allow_list": ["Zoë"], "mode": "redact"})
    assert a.content_hash() == b.content_hash()
    assert "Zoë".encode() in a.canonical()  # not \\u-escaped


def test_ledger_entries_name_the_canonical_form_of_their_policy_hash() -> None:
    record = EgressRecord(
        kind="egress",
        exchange_id="x1",
        app="demo",
        destination_host="api.example.com",
        destination_path="/v1/chat/completions",
        method="POST",
        model="m",
        mode="redact",
        policy_id="default",
        policy_hash=Policy().content_hash(),
        entity_counts={},
    )
    fields, _ = egress_fields(record, b"k" * 32)
    assert fields["policy"]["canon"] == POLICY_HASH_CANON == "rfc8785"
