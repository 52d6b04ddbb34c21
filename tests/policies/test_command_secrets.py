"""Credentials in shell commands and URLs are found; uids, variables and e-mail links not."""

from __future__ import annotations

import pytest
from cogate.policies.detect.engine import Detector


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("curl -u admin:S3cretPass https://api.example.com/v1", "S3cretPass"),
        ("curl --user=deploy:hunter2go https://x.example.com", "hunter2go"),
        ("mytool --password=Tr0ub4dor --verbose", "Tr0ub4dor"),
        ("mysql -u root -pS3cretDb db", "S3cretDb"),
        ("psql app:pw9xk2@db.internal.example.com/main", "pw9xk2"),
        ('curl -H "Authorization: Bearer abcDEF123456789xyz" https://a.io', "abcDEF123456789xyz"),
        ("curl -H 'Authorization: Basic YWRtaW46c2VjcmV0' https://x.io", "YWRtaW46c2VjcmV0"),
    ],
)
def test_command_credentials(detector: Detector, text: str, secret: str) -> None:
    at = text.index(secret)
    spans = [s for s in detector.detect(text) if s.entity_type == "SECRET"]
    assert any(s.start <= at and s.end >= at + len(secret) for s in spans)


@pytest.mark.parametrize(
    "text",
    [
        "docker run -u 1000:1000 image",
        "git push -u origin main",
        'mytool --password "$DB_PASSWORD" --token "${TOKEN}"',
        "write to mailto:john@example.com",
        "curl -H 'Authorization: Bearer <your-token>' https://x.io",
    ],
)
def test_not_command_credentials(detector: Detector, text: str) -> None:
    assert not [s for s in detector.detect(text) if s.entity_type == "SECRET"]
