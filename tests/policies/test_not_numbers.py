"""Version strings are no IP addresses, ids and Unix timestamps no phone numbers, and git
SHAs, digests and UUIDs no secrets (nor places) — while an address, a phone number by its
cue or format, and a credential after its key word are still found."""

from __future__ import annotations

import json

import pytest
from cogate.policies.detect.engine import Detector
from cogate.policies.privacy import Privacy
from cogate.proxy.surfaces import exchange_for


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [
        (s.entity_type, text[s.start : s.end]) for s in detector.detect(text, acting_only=False)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Version 1.2.3.4 is out.",
        '{"name": "agent", "version": "4.17.21.0"}',
        "APP_VERSION=2.0.0.1",
        "pip install requests==2.31.0.1",
        "npm install lodash@4.17.21.0",
        "release 3.10.0.2 fixes the crash",
        "build 1.0.0.123 passed",
        "Upgrade to v10.0.0.1 today.",
        "ships as 1.2.3.4-rc1 tomorrow",
        '"""RFC 9162 §2.1.3.2."""',
        "as section 4.2.1.3 requires",
    ],
)
def test_a_version_is_no_ip_address(detector: Detector, text: str) -> None:
    assert [v for t, v in found(detector, text) if t == "IP_ADDRESS"] == []


@pytest.mark.parametrize(
    ("text", "ip"),
    [
        ("Connect to 10.0.0.1 on port 22.", "10.0.0.1"),
        ("10.0.0.1", "10.0.0.1"),
        ("ssh deploy@10.0.0.1 and restart", "10.0.0.1"),
        ("DNS server 10.0.0.53 answers", "10.0.0.53"),
        ("the tag server: 10.0.0.1", "10.0.0.1"),
        ('{"client_ip": "192.168.1.20", "version": "2"}', "192.168.1.20"),
    ],
)
def test_an_address_stays_one(detector: Detector, text: str, ip: str) -> None:
    assert ("IP_ADDRESS", ip) in found(detector, text)


@pytest.mark.parametrize(
    "text",
    [
        "Fetching user id 4403921187 from the API.",
        "Your order #4403921187 has shipped.",
        "Ticket 4403921187 was closed.",
        '{"created_at": 1733572800, "id": 4403921187}',
        '{"created": 1733572800, "model": "gpt-4o"}',
        "ts=1733572800123 level=info msg=done",
        "id=4403921187 status=200",
        "Unix time 1733572800 corresponds to December.",
    ],
)
def test_an_id_or_a_timestamp_is_no_phone(detector: Detector, text: str) -> None:
    assert [v for t, v in found(detector, text) if t == "PHONE_NUMBER"] == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Call me at 4155550123 tomorrow.", "4155550123"),
        ("phone: 4155550123", "4155550123"),
        ('{"id": 7, "phone": "4155550123"}', "4155550123"),
        ("Order questions: call 415-555-0123.", "415-555-0123"),
        ("Your order ships; tel 4155550123 for help.", "4155550123"),
    ],
)
def test_a_phone_stays_one(detector: Detector, text: str, phone: str) -> None:
    assert any(t == "PHONE_NUMBER" and phone in v for t, v in found(detector, text))


@pytest.mark.parametrize(
    "text",
    [
        "commit 3f1c2a9b7d4e5f60718293a4b5c6d7e8f9012345",
        "CI_COMMIT_SHA=3f1c2a9b7d4e5f60718293a4b5c6d7e8f9012345",
        "Cherry-picked 3f1c2a9b7d4 and a1b2c3d4e5f6 onto release.",
        "sha: 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "image: nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
        "See https://example.com/runs/123e4567-e89b-12d3-a456-426614174000/logs",
        '{"request_id": "123e4567-e89b-12d3-a456-426614174000", "status": 200}',
        "client_id: 123e4567-e89b-12d3-a456-426614174000",
    ],
)
def test_shas_digests_and_uuids_are_nothing(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("api_key = 3f1c2a9b7d4e5f60718293a4b5c6d7e8f9012345", "3f1c2a9b7d4e5f60718293a4b5c6d7e8"),
        ("HEROKU_API_KEY=123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b"),
        ("export GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "ghp_aBcDeFgHiJ"),
        ("Token: 9fceb02d0ae598e95dc970b74767f19372d61af8", "9fceb02d0ae598e95dc9"),
    ],
)
def test_a_credential_after_its_key_stays_secret(
    detector: Detector, text: str, secret: str
) -> None:
    assert any(t == "SECRET" and secret in v for t, v in found(detector, text))


@pytest.mark.parametrize(
    "item_id",
    ["msg_01a24fd4-7a2a-7321-9d3a-0900c7907e30", "msg_01a24fd4-7a41-7dc1-9fae-096aba626d07"],
)
def test_a_call_id_read_as_words_is_still_no_name(privacy: Privacy, item_id: str) -> None:
    # Identifiers are also read with `_`/`-` as spaces; the UUID's parts then stand alone.
    item = {"type": "message", "role": "user", "id": item_id, "content": "Hello there."}
    ex = exchange_for("responses", {"model": "gpt-4o", "input": [item]})
    privacy.resolve(ex)
    privacy.sanitize(ex)
    assert json.loads(ex.outbound)["input"][0]["id"] == item_id
    assert [f for f in ex.findings if f.field.endswith(".id")] == []
