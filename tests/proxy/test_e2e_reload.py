"""Hot reload through `cogate serve`: a changed policy file applies to the next request and
its hash goes into the ledger; a broken file is logged and the policy in force stays; SIGHUP
reloads too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from cogate.policies.schema import load_policy

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e

COGATE = str(Path(sys.executable).parent / "cogate")
EMAIL = "Reply to jane.roe@example.com in one word."


def wait_for(log: Path, text: str, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text().count(text) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not logged {count} times:\n{log.read_text()[-2000:]}")


def audit(*args: str) -> str:
    return subprocess.run(
        [COGATE, "audit", *args], capture_output=True, text=True, timeout=120, check=True
    ).stdout


def last_hash(data_dir: Path) -> str:
    """The policy hash of the ledger's latest egress entry."""
    listed = [
        json.loads(line)
        for line in audit("list", "--json", "--data-dir", str(data_dir)).splitlines()
        if line.strip()
    ]
    latest = max(listed, key=lambda e: e["seq"])["id"]
    shown = json.loads(audit("show", latest, "--json", "--data-dir", str(data_dir)))
    return shown["entry"]["policy"]["hash"]


def ask(client: openai.OpenAI, text: str) -> str:
    try:
        client.chat.completions.create(
            model="smollm2", messages=[{"role": "user", "content": text}], max_tokens=4
        )
    except openai.PermissionDeniedError:
        return "refused"
    return "sent"


def write(path: Path, text: str) -> None:
    path.write_text(text)


def test_reload_on_change_keeps_old_on_error_and_on_sighup(
    llama_upstream: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    write(policy, "mode: redact\n")
    with cogate_server(tmp_path, llama_upstream, args=["--policy", str(policy)]) as gateway:
        client = openai.OpenAI(base_url=gateway, api_key="sk-test", max_retries=0)
        assert ask(client, EMAIL) == "sent"
        first = last_hash(tmp_path / "data")

        # A valid change applies to the next request; the ledger records the new hash.
        write(policy, "actions:\n  EMAIL_ADDRESS: block\n")
        blocking = load_policy(policy).content_hash()
        wait_for(gateway.log, "policy reloaded (file changed)", 1)
        assert ask(client, EMAIL) == "refused"
        assert ask(client, "Name a colour.") == "sent"
        assert last_hash(tmp_path / "data") == blocking != first

        # A broken file is logged; the policy in force stays.
        write(policy, "actions:\n  EMAIL: mask\n")
        wait_for(gateway.log, "policy reload (file changed) failed", 1)
        assert "actions.EMAIL" in gateway.log.read_text()
        assert ask(client, EMAIL) == "refused"
        assert ask(client, "Name a colour.") == "sent"
        assert last_hash(tmp_path / "data") == blocking

        # SIGHUP: the file is back to `mode: redact` without the watcher seeing a change
        # (same size and modification time as the broken file), so only the signal reloads.
        before = policy.stat()
        write(policy, "mode: redact\n" + " " * (before.st_size - len("mode: redact\n")))
        os.utime(policy, ns=(before.st_atime_ns, before.st_mtime_ns))
        time.sleep(2.5)
        assert ask(client, EMAIL) == "refused"
        gateway.proc.send_signal(signal.SIGHUP)
        wait_for(gateway.log, "policy reloaded (SIGHUP)", 1)
        assert ask(client, EMAIL) == "sent"
        assert last_hash(tmp_path / "data") == first
