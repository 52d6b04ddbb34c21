"""SIGTERM: in-flight requests finish, the ledger is signed, and it verifies."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import openai
import pytest

from tests.proxy.test_e2e_openai import GatedUpstream
from tests.servers import cogate_server

pytestmark = pytest.mark.e2e

COGATE = str(Path(sys.executable).parent / "cogate")


def test_sigterm_finishes_in_flight_requests_and_signs_the_ledger(tmp_path: Path) -> None:
    upstream = GatedUpstream()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    data_dir = tmp_path / "data"
    policy = tmp_path / "passthrough.yaml"
    policy.write_text("mode: passthrough\n")
    try:
        base = f"http://127.0.0.1:{upstream.server_address[1]}/v1"
        with cogate_server(
            tmp_path, base, args=["--policy", str(policy)], data_dir=data_dir
        ) as url:
            client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)
            stream = client.chat.completions.create(
                model="g", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            first = next(iter(stream))  # the request is now in flight
            subprocess.run(["kill", "-TERM", str(url.pid)], check=True)
            upstream.first_seen.set()
            rest = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            assert first.choices[0].delta.content + rest == "first second"
    finally:
        upstream.first_seen.set()
        upstream.shutdown()
    result = subprocess.run(
        [COGATE, "audit", "verify", "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["unsigned_tail"] == 0, report  # the shutdown checkpoint covers every entry
    listed = subprocess.run(
        [COGATE, "audit", "list", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    entries = [json.loads(line) for line in listed]
    assert len(entries) == 1
    assert entries[0]["outcome"] == "ok" and entries[0]["status"] == 200
