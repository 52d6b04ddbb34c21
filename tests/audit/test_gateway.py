"""The ledger behind the gateway: write-ahead entries, ids in responses, no secrets on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from cogate.audit.ledger import SQLiteLedger
from cogate.core.exchange import Exchange, Finding
from cogate.core.settings import Settings
from cogate.proxy.egress.gate import EgressGate

from ..servers import cogate_server
from .helpers import CANARIES, all_files, cli, db

API_KEY = "sk-canary-4f1d9e0b7a2c"
BIN = Path(sys.executable).parent


def _assert_clean(root, needles):
    for path in all_files(root):
        data = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, f"{needle!r} reached {path}"


def test_egress_is_recorded_before_the_upstream_sees_it(cogate_home):
    seen: list[tuple[bytes, int]] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        # At this moment the write-ahead entry must already be committed (by another
        # connection, so it is durable, not just buffered).
        count = db(cogate_home).execute("SELECT count(*) FROM entries").fetchone()[0]
        seen.append((request.content, count))
        return httpx.Response(200, json={"choices": [], "usage": {"total_tokens": 3}})

    settings = Settings(data_dir=cogate_home, upstream="http://upstream.test/v1")
    ledger = SQLiteLedger(cogate_home, checkpoint_every=2, background=False)
    ex = Exchange(
        route="chat/completions", body={"model": "m"}, authorization=f"Bearer {API_KEY}", app="mail"
    )
    ex.findings = [Finding("PERSON", 0, 5, 0.9, "spacy"), Finding("EMAIL_ADDRESS", 6, 9, 1.0, "re")]
    ex.removed = [("PERSON", CANARIES[0]), ("EMAIL_ADDRESS", CANARIES[1])]
    ex.mode = "redact"

    async def main():
        async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
            gate = EgressGate(settings, client, ledger)
            body = {"model": "m", "messages": [{"role": "user", "content": "Hi <PERSON_1>"}]}
            reply = await gate.send(ex, "chat/completions", body)
            await gate.drain()  # the completion entry is written after the answer
            return reply

    reply = anyio.run(main)
    ledger.close()
    assert reply.audit_id == "1"
    assert seen[0][1] == 1
    shown = json.loads(cli("show", "1", "--data-dir", cogate_home, "--json").output)
    assert shown["body"].encode() == seen[0][0]  # byte for byte what left
    assert shown["entry"]["entities"] == {"EMAIL_ADDRESS": 1, "PERSON": 1}
    assert shown["completion"]["status"] == 200 and shown["completion"]["usage"]
    assert shown["summary"]["outcome"] == "ok"
    _assert_clean(cogate_home, [*CANARIES, API_KEY])
    assert cli("verify", "--data-dir", cogate_home).exit_code == 0


@pytest.mark.e2e
def test_traffic_through_cogate_serve_is_audited(tmp_path, llama_upstream):
    with cogate_server(tmp_path, llama_upstream) as base:
        ids = []
        for i in range(2):
            r = httpx.post(
                f"{base}/chat/completions",
                json={
                    "model": "smol",
                    "max_tokens": 4,
                    "messages": [{"role": "user", "content": f"Say hi {i}"}],
                },
                headers={"authorization": f"Bearer {API_KEY}", "x-cogate-app": "e2e"},
                timeout=120,
                trust_env=False,
            )
            assert r.status_code == 200, r.text
            ids.append(r.headers["x-cogate-audit-id"])
    data = tmp_path / "data"
    assert ids == ["1", "3"]  # each egress followed by its completion
    listed = subprocess.run(
        [str(BIN / "cogate"), "audit", "list", "--json", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        check=True,
    )
    items = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [it["id"] for it in items] == ["3", "1"]
    assert all(it["app"] == "e2e" and it["outcome"] == "ok" for it in items)
    verified = subprocess.run(
        [str(BIN / "cogate"), "audit", "verify", "--data-dir", str(data)],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    _assert_clean(data, [API_KEY])
