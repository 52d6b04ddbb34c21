"""The gateway connects to nothing but its configured upstream, whatever the mode."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import httpx
import pytest

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e

TRACE = Path(__file__).parent / "connect_trace"
MODES = ["passthrough", "redact", "sketch", "local", "logits"]


def test_gateway_connects_only_to_its_upstream(llama_upstream: str, tmp_path: Path) -> None:
    log = tmp_path / "connects.jsonl"
    env = {
        "PYTHONPATH": os.pathsep.join([str(TRACE), os.environ.get("PYTHONPATH", "")]),
        "COGATE_TEST_CONNECT_LOG": str(log),
    }
    upstream_port = int(llama_upstream.rsplit(":", 1)[1].split("/")[0])
    policy = tmp_path / "p.yaml"
    policy.write_text("mode: passthrough\n")  # every stricter mode is asked for per request
    with cogate_server(tmp_path, llama_upstream, args=["--policy", str(policy)], env=env) as url:
        for mode in MODES:
            response = httpx.post(
                f"{url}/chat/completions",
                headers={"x-cogate-mode": mode},
                json={
                    "model": "smollm2",
                    "max_tokens": 8,
                    "messages": [
                        {"role": "system", "content": "Name: Jane Roe. Location: Lisbon."},
                        {"role": "user", "content": "Write hello to jane@example.com"},
                    ],
                },
                timeout=300,
                trust_env=False,
            )
            assert response.status_code == 200, (mode, response.text)
            assert response.headers["x-cogate-mode"] == mode
    assert log.exists(), "the connect trace was not loaded into the gateway"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    inet = [r for r in records if r["family"] in (socket.AF_INET, socket.AF_INET6)]
    assert inet, "the gateway made no connection at all: the trace is not working"
    for record in inet:
        assert record["address"] == repr(("127.0.0.1", upstream_port)), record
