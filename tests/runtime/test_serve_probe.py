"""`cogate serve` probes the local-model runtime before it accepts traffic."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
from cogate.proxy.servers import BIN

from tests.servers import cogate_server, free_port

# Nothing listens there: these tests never reach an upstream.
NO_UPSTREAM = "http://127.0.0.1:9/v1"


def serve_cmd(tmp_path: Path, policy: Path) -> list[str]:
    return [
        str(BIN / "cogate"),
        "serve",
        "--port",
        str(free_port()),
        "--upstream",
        NO_UPSTREAM,
        "--data-dir",
        str(tmp_path / "data"),
        "--policy",
        str(policy),
    ]


def test_serve_refuses_to_start_when_the_probe_dies_and_the_policy_needs_it(
    tmp_path: Path, sigill_runtime: Path
) -> None:
    policy = tmp_path / "sketch.yaml"
    policy.write_text("mode: sketch\n")
    env = {**os.environ, "PYTHONPATH": str(sigill_runtime)}
    done = subprocess.run(
        serve_cmd(tmp_path, policy), capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 3
    assert "not starting" in done.stderr
    assert "SIGILL" in done.stderr and "CPU instructions this machine does not allow" in done.stderr
    assert "The policy selects sketch" in done.stderr
    assert "make install" in done.stderr


def test_a_route_selecting_a_local_mode_also_stops_start_up(
    tmp_path: Path, sigill_runtime: Path
) -> None:
    policy = tmp_path / "routes.yaml"
    policy.write_text("mode: redact\nroutes:\n  - match: {app: notes}\n    mode: local\n")
    env = {**os.environ, "PYTHONPATH": str(sigill_runtime)}
    done = subprocess.run(
        serve_cmd(tmp_path, policy), capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 3
    assert "The policy selects local" in done.stderr


def test_without_local_modes_serve_starts_with_them_disabled_and_says_so(
    tmp_path: Path, sigill_runtime: Path
) -> None:
    policy = tmp_path / "redact.yaml"
    policy.write_text("mode: redact\n")
    with cogate_server(
        tmp_path,
        NO_UPSTREAM,
        args=["--policy", str(policy)],
        env={"PYTHONPATH": str(sigill_runtime)},
    ) as base:
        root = base.removesuffix("/v1")
        health = httpx.get(f"{root}/cogate/health", trust_env=False).json()
        # Nothing listens on NO_UPSTREAM: since issue 30 health says so (the gateway runs).
        assert health["status"] == "degraded" and "openai" in health["unreachable"]
        assert health["local_model"]["status"] == "disabled"
        assert "SIGILL" in health["local_model"]["reason"]
        # A client asking for a local mode is refused, nothing is forwarded anywhere.
        refused = httpx.post(
            f"{base}/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hello"}]},
            headers={"x-cogate-mode": "local"},
            trust_env=False,
            timeout=60,
        )
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "local_model_unavailable"
        assert "disabled" in refused.json()["error"]["message"]
    log = next(tmp_path.glob("cogate-*.log")).read_text()
    assert "local modes disabled" in log and "SIGILL" in log


def test_on_a_working_runtime_health_reports_the_local_model_ok(tmp_path: Path) -> None:
    policy = tmp_path / "redact.yaml"
    policy.write_text("mode: redact\n")
    with cogate_server(tmp_path, NO_UPSTREAM, args=["--policy", str(policy)]) as base:
        health = httpx.get(f"{base.removesuffix('/v1')}/cogate/health", trust_env=False).json()
        # The worker process holding the weights starts on the first local-model request.
        assert health["local_model"] == {
            "status": "ok",
            "isolation": "process",
            "worker": {"pid": None, "starts": 0, "deaths": 0},
        }
    assert "local model runtime probe: ok" in next(tmp_path.glob("cogate-*.log")).read_text()


def test_a_crash_of_the_serving_process_leaves_its_stack_in_the_log(tmp_path: Path) -> None:
    policy = tmp_path / "redact.yaml"
    policy.write_text("mode: redact\n")
    with cogate_server(tmp_path, NO_UPSTREAM, args=["--policy", str(policy)]) as base:
        # What llama.cpp's trapped instruction does to the process hosting it.
        os.kill(base.pid, signal.SIGILL)
        assert base.proc.wait(timeout=60) == -signal.SIGILL
    log = next(tmp_path.glob("cogate-*.log")).read_text()
    assert "Fatal Python error: Illegal instruction" in log
    assert "Current thread" in log or "Thread 0x" in log
