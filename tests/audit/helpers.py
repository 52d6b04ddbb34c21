"""Builders shared by the audit tests."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result
from cogate.audit.cli import audit
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.records import CompletionRecord, EgressRecord

CANARIES = ["Zorblax Quintavelle", "canary-7731-secret@example.org", "+44 7700 900461"]


def egress(
    i: int,
    *,
    removed: list[tuple[str, str]] | None = None,
    app: str = "notes",
    host: str = "api.openai.com",
    kind: str = "egress",
    store_body: bool = True,
    entities: dict[str, int] | None = None,
) -> EgressRecord:
    body = json.dumps(
        {
            "model": "gpt-test",
            "messages": [{"role": "user", "content": f"request {i} about <PERSON_1>"}],
        }
    ).encode()
    return EgressRecord(
        exchange_id=f"ex-{i}",
        app=app,
        destination_host="local" if kind == "local" else host,
        destination_path="" if kind == "local" else "/v1/chat/completions",
        method="NONE" if kind == "local" else "POST",
        model="gpt-test",
        mode="local" if kind == "local" else "redact",
        policy_id="default",
        policy_hash="sha256:" + "ab" * 32,
        entity_counts=entities if entities is not None else {"PERSON": 1},
        removed_values=removed or [],
        body=b"" if kind == "local" else body,
        store_body=store_body,
        kind=kind,
    )


def completion(audit_id: str, i: int) -> CompletionRecord:
    return CompletionRecord(
        egress_id=audit_id,
        exchange_id=f"ex-{i}",
        status=200,
        outcome="ok",
        timings={"upstream_ms": 12.5, "total_ms": 20.25},
        usage={"prompt_tokens": 10, "completion_tokens": 5},
    )


def fill(data_dir: Path, n: int, *, every: int = 4, completions: bool = True) -> list[str]:
    """n egress entries (each followed by its completion), then a clean close."""
    ledger = SQLiteLedger(data_dir, checkpoint_every=every, background=False)
    ids = []
    try:
        for i in range(n):
            audit_id = ledger.append_egress(egress(i))
            ids.append(audit_id)
            if completions:
                ledger.append_completion(completion(audit_id, i))
    finally:
        ledger.close()
    return ids


def cli(*args: str) -> Result:
    return CliRunner().invoke(audit, [str(a) for a in args], catch_exceptions=False)


def db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / "audit" / "ledger.sqlite3", isolation_level=None)


def all_files(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, files in os.walk(root) for f in files]


class Replies(list):
    """The gateway's answers, and the bodies its upstream received."""

    upstream: list[bytes]


def through_gateway(
    data_dir: Path, privacy, requests: list, span_exporter=None, **settings
) -> Replies:
    """Send chat requests (body, headers) through the real gateway and privacy engine to a
    scripted upstream, with the real SQLite ledger in `data_dir`; a callable in `requests`
    is called at its turn instead (to stop or start something between requests)."""
    import httpx
    from cogate.core.settings import Settings
    from cogate.proxy.app import create_app
    from cogate.proxy.assembly import assemble_pipeline
    from fastapi.testclient import TestClient

    replies = Replies()
    replies.upstream = []

    def answer(request: httpx.Request) -> httpx.Response:
        replies.upstream.append(request.content)
        message = {"role": "assistant", "content": "ok"}
        return httpx.Response(200, json={"choices": [{"index": 0, "message": message}]})

    ledger = SQLiteLedger(data_dir, background=False)
    transport = httpx.MockTransport(answer)

    def assemble(settings: Settings):
        return assemble_pipeline(
            settings,
            transport=transport,
            ledger=ledger,
            privacy=privacy,
            span_exporter=span_exporter,
        )

    app = create_app(
        Settings(upstream="http://up.test/v1", data_dir=data_dir, **settings), assemble
    )
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for item in requests:
            if callable(item):
                item()
                continue
            body, headers = item
            replies.append(client.post("/v1/chat/completions", json=body, headers=headers))
    ledger.close()
    return replies
