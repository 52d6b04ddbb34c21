"""The gateway connects to nothing but its configured upstream, whatever the mode.

`strace -f -e trace=connect` sees every connect(2) of the gateway process and its threads,
including those made in C (uvloop, llama.cpp), while it loads every model and answers in
every mode.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, stop, wait_ready

pytestmark = pytest.mark.e2e

MODES = ["passthrough", "redact", "sketch", "local", "logits"]
COGATE = str(Path(sys.executable).parent / "cogate")


def test_gateway_connects_only_to_its_upstream(llama_upstream: str, tmp_path: Path) -> None:
    strace = shutil.which("strace")
    assert strace, "strace is missing: `make install` installs it"
    trace = tmp_path / "connects.trace"
    log = tmp_path / "gateway.log"
    port = free_port()
    upstream_port = int(llama_upstream.rsplit(":", 1)[1].split("/")[0])
    policy = tmp_path / "p.yaml"
    policy.write_text("mode: passthrough\n")  # every stricter mode is asked for per request
    cmd = [
        strace,
        "-f",
        "-qq",
        "-e",
        "trace=connect",
        "-o",
        str(trace),
        COGATE,
        "serve",
        "--port",
        str(port),
        "--upstream",
        llama_upstream,
        "--policy",
        str(policy),
        "--data-dir",
        str(tmp_path / "data"),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/cogate/health", proc, log)
        for mode in MODES:
            response = httpx.post(
                f"{base}/v1/chat/completions",
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
    finally:
        # strace passes SIGTERM on to nothing: stop the gateway itself, then strace ends.
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        for child in children:
            subprocess.run(["kill", f"-{signal.SIGTERM.value}", child])
        stop(proc)
    calls = [line for line in trace.read_text().splitlines() if "connect(" in line]
    inet = [line for line in calls if "AF_INET" in line]
    assert inet, "no connect traced at all: the trace is not working"
    for line in inet:
        match = re.search(
            r'sin6?_port=htons\((\d+)\).*?(?:inet_addr|inet_pton\(AF_INET6?, )\(?"([^"]+)"', line
        )
        assert match, line
        assert (match.group(2), int(match.group(1))) == ("127.0.0.1", upstream_port), line
