"""End to end: the official openai SDK → mitmdump (cogate intercept) → cogate serve → llama.cpp.

The scenario runs in a loopback-only network namespace where the machine allows it, with a
hosts file that points api.openai.com at a trap: any attempt to reach the real API shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MITM_PYTHON = REPO / ".mitm-venv" / "bin" / "python"

pytestmark = [pytest.mark.mitm, pytest.mark.e2e, pytest.mark.timeout(900)]


def netns_available() -> bool:
    if not (shutil.which("unshare") and shutil.which("ip") and shutil.which("mount")):
        return False
    probe = subprocess.run(
        ["unshare", "-n", "-m", "sh", "-c", "ip link set lo up && mount -t tmpfs none /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


def privacy_wired() -> bool:
    try:
        from cogate.policies import Privacy  # noqa: F401
    except (ImportError, AttributeError):
        return False
    return True


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not (REPO / ".mitm-venv" / "bin" / "mitmdump").exists():
        pytest.fail("mitmproxy's environment is missing: run `make mitm`")
    workdir = tmp_path_factory.mktemp("intercept")
    cmd = [sys.executable, "-m", "tests.intercept.e2e_scenario", str(workdir)]
    if netns_available():
        hosts = workdir / "hosts"
        hosts.write_text(
            "127.0.0.1 localhost\n::1 localhost\n"
            "127.0.0.2 api.openai.com\n127.0.0.1 files.internal.test\n"
        )
        inner = " ".join(map(_quote, [*cmd, "--trap"]))
        cmd = [
            "unshare",
            "-n",
            "-m",
            "sh",
            "-c",
            f"mount --bind {_quote(str(hosts))} /etc/hosts && ip link set lo up && exec {inner}",
        ]
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=850)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


def test_sdk_reaches_the_local_model_through_the_gateway(scenario):
    assert scenario["client_rc"] == 0, scenario["client_stderr"] + scenario["intercept_log"]
    client = scenario["client"]
    assert client["base_url"].startswith("https://api.openai.com/v1")
    assert client["answer"]
    assert client["audit_id"]  # the gateway handled it and recorded the egress
    paths = [seen["path"] for seen in scenario["upstream_seen"]]
    assert paths.count("/v1/chat/completions") == 2
    # The app's own key travelled to the configured upstream, never anywhere else.
    assert all(
        seen["authorization"] == "Bearer sk-test-not-a-real-key"
        for seen in scenario["upstream_seen"]
    )


def test_streamed_events_arrive_separately(scenario):
    arrivals = scenario["client"]["stream_arrivals"]
    assert len(arrivals) >= 3
    # Buffered by the proxy, every event would land in the same instant.
    assert len({round(t, 3) for t in arrivals}) > 1
    assert scenario["client"]["stream_text"]


def test_other_https_traffic_keeps_its_own_certificate(scenario):
    assert scenario["client"]["other"] == {"status": 200, "body": "not an LLM"}


def test_no_connection_to_the_real_api(scenario):
    if not scenario["trap"]:
        pytest.skip("no network namespace here: the trap for api.openai.com could not be set")
    assert scenario["trap_hits"] == []
    assert "refused a direct connection" not in scenario["intercept_log"]


def test_clean_shutdown_stops_mitmdump(scenario):
    assert scenario["intercept_rc"] == 0, scenario["intercept_log"]
    assert scenario["proxy_port_open_after_stop"] is False


def test_ca_bundle_holds_system_roots_and_the_ca(scenario):
    ca = scenario["ca"]
    assert ca["bundle"].endswith(".pem")
    bundle = Path(ca["bundle"]).read_text()
    assert Path(ca["ca_cert"]).read_text().strip() in bundle
    assert bundle.count("BEGIN CERTIFICATE") > 10


def test_private_values_are_redacted_upstream_and_restored(scenario):
    client, email = scenario["client"], scenario["email"]
    first = scenario["upstream_seen"][0]
    if client["mode"] != "redact":
        if privacy_wired():
            pytest.skip(f"the gateway ran in {client['mode']!r} mode: redaction is not wired yet")
        pytest.skip("no privacy engine in this gateway yet (passthrough)")
    assert email not in first["body"]
    sent = json.loads(first["body"])["messages"][0]["content"]
    prompt = scenario["prompt"]
    head = prompt.index(email)
    tail = len(prompt) - head - len(email)
    placeholder = sent[head : len(sent) - tail]
    assert placeholder and placeholder != email
    if placeholder in first["response"]:
        assert email in client["answer"] and placeholder not in client["answer"]
