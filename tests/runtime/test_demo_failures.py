"""`make demo` names the process that died, how, and its last log lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cogate.proxy.demo import explain_failure
from cogate.proxy.servers import ServerDied, ServerURL, wait_ready

KILL_SIGILL = "import os, signal; print('model loaded', flush=True); os.kill(os.getpid(), 4)"


def dead_server(tmp_path: Path, code: str, name: str) -> ServerURL:
    log = tmp_path / f"{name.split()[-1]}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=out)
    proc.wait(timeout=60)
    return ServerURL("http://127.0.0.1:9/v1", proc, log, name)


def test_wait_ready_names_the_server_and_its_signal(tmp_path: Path) -> None:
    server = dead_server(tmp_path, KILL_SIGILL, "the llama.cpp server")
    with pytest.raises(ServerDied) as caught:
        wait_ready("http://127.0.0.1:9/", server.proc, server.log, name=server.name)
    assert caught.value.returncode == -4
    assert "the llama.cpp server" in str(caught.value)
    assert "died with SIGILL (signal 4)" in str(caught.value)
    assert "model loaded" in caught.value.tail


def test_a_failed_request_is_explained_by_the_process_that_died(tmp_path: Path) -> None:
    cloud = dead_server(tmp_path, KILL_SIGILL, "the llama.cpp server")
    gateway = dead_server(tmp_path, "import sys; print('listening'); sys.exit(3)", "the gateway")
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    response = httpx.Response(502, request=request, text='{"error": {"code": "upstream"}}')
    error = httpx.HTTPStatusError("502 Bad Gateway", request=request, response=response)
    text = explain_failure(error, [cloud, gateway])
    assert f"the llama.cpp server (pid {cloud.pid}) died with SIGILL (signal 4)" in text
    assert "CPU instructions this machine does not allow" in text
    assert f"the gateway (pid {gateway.pid}) exited with code 3" in text
    assert "model loaded" in text and "listening" in text
    assert '"code": "upstream"' in text
    assert "Traceback" not in text


def test_make_demo_reports_a_cloud_that_dies_with_sigill(
    tmp_path: Path, sigill_runtime: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(sigill_runtime), "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "cogate.proxy.demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1
    assert "the llama.cpp server (pid" in done.stderr
    assert "died with SIGILL (signal 4)" in done.stderr
    assert "last lines of its log" in done.stderr
    assert "Traceback" not in done.stderr
