"""Two `cogate serve` replicas on one PostgreSQL database, forwarding to the real llama.cpp
upstream: one chain across both, a replica SIGKILLed during a burst, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from ..pgserver import pg_bin
from ..servers import cogate_server
from .relay import counting_relay

BIN = Path(sys.executable).parent
API_KEY = "sk-team-canary-5e2a91"
EMAIL = "canary-7731-secret@example.org"

pytestmark = pytest.mark.e2e


def ask(base: str, i: int, text: str = "", conversation: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {API_KEY}", "x-cogate-app": "team"}
    if conversation:
        headers["x-cogate-conversation"] = conversation
    return httpx.post(
        f"{base}/chat/completions",
        json={
            "model": "smol",
            "max_tokens": 3,
            "messages": [{"role": "user", "content": text or f"Note {i}: write to {EMAIL}."}],
        },
        headers=headers,
        timeout=300,
        trust_env=False,
    )


def left(data: Path, url: str, audit_id: str) -> str:
    """The body that left for an audit id, as the ledger recorded it."""
    return cogate(
        "audit", "show", audit_id, "--raw", "--data-dir", str(data), "--database-url", url
    ).stdout


def conversation_across_replicas(a: str, b: str, data: Path, url: str) -> None:
    """Turn 1 on one replica, turn 2 on the other: the second sees the first one's vault."""
    one = ask(a, 0, f"Please email {EMAIL}.", conversation="team-chat-1")
    two = ask(b, 0, f"Also copy other.person@example.net and {EMAIL}.", conversation="team-chat-1")
    assert one.status_code == two.status_code == 200, (one.text, two.text)
    first = left(data, url, one.headers["x-cogate-audit-id"])
    second = left(data, url, two.headers["x-cogate-audit-id"])
    assert "[EMAIL_1]" in first and EMAIL not in first
    # A vault of its own would have numbered the new address 1; the shared one knows EMAIL_1.
    assert "copy [EMAIL_2] and [EMAIL_1]" in second, second


def cogate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cogate"), *args], capture_output=True, text=True)


def burst(a: str, b: str, n: int, kill_after: int) -> dict[str, list]:
    """n requests alternating over both replicas from 4 clients; replica `a` is SIGKILLed
    once it answered `kill_after`; a request it fails is retried on `b`, as a balancer does."""
    out: dict[str, list] = {"a_ok": [], "b": [], "retried": []}
    lock = threading.Lock()
    killed = threading.Event()
    todo = list(range(n))

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop(0)
            if i % 2 == 0 and not killed.is_set():
                try:
                    r = ask(a, i)
                    with lock:
                        out["a_ok"].append((i, r))
                        if len(out["a_ok"]) >= kill_after and not killed.is_set():
                            os.kill(a.pid, signal.SIGKILL)
                            killed.set()
                    continue
                except httpx.HTTPError:
                    with lock:
                        out["retried"].append(i)
            r = ask(b, i)
            with lock:
                out["b"].append((i, r))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_two_replicas_one_chain_survive_a_sigkill(tmp_path, llama_upstream, database_url):
    data = tmp_path / "shared-data"
    args = ["--database-url", database_url]
    with (
        counting_relay(llama_upstream) as (upstream, seen),
        cogate_server(tmp_path, upstream, args=args, data_dir=data) as a,
    ):
        secret = (data / "intercept-secret").read_text()
        with cogate_server(tmp_path, upstream, args=args, data_dir=data) as b:
            assert (data / "intercept-secret").read_text() == secret  # not rotated by b
            conversation_across_replicas(a, b, data, database_url)
            out = burst(a, b, n=24, kill_after=3)
    assert len(out["a_ok"]) >= 3
    # The survivor answered everything sent to it, retries included.
    assert [r.status_code for _, r in out["b"]] == [200] * len(out["b"])
    answered = {i for i, _ in out["a_ok"]} | {i for i, _ in out["b"]}
    assert {r.status_code for _, r in out["a_ok"]} == {200}
    assert answered == set(range(24))

    verified = cogate("audit", "verify", "--data-dir", str(data), "--database-url", database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    listed = cogate(
        "audit", "list", "--json", "--limit", "1000", "--data-dir", str(data),
        "--database-url", database_url,
    )  # fmt: skip
    items = [json.loads(line) for line in listed.stdout.splitlines()]
    # Every request that reached the upstream has its egress entry, byte for byte.
    bodies = []
    for item in items:
        shown = cogate(
            "audit", "show", item["id"], "--raw", "--data-dir", str(data),
            "--database-url", database_url,
        )  # fmt: skip
        bodies.append(shown.stdout.encode())
    chat = [body for path, body in seen if path.endswith("/chat/completions")]
    assert len(chat) >= 26
    for body in chat:
        assert body in bodies
    # Requests the killed replica had sent (or answered but not yet completed in the
    # ledger) read "outcome unknown"; everything the survivor answered completed.
    assert {it["outcome"] for it in items} <= {"ok", "outcome unknown"}
    survivor_ids = {r.headers["x-cogate-audit-id"] for _, r in out["b"]}
    assert survivor_ids <= {it["id"] for it in items if it["outcome"] == "ok"}
    assert {r.headers["x-cogate-audit-id"] for _, r in out["a_ok"]} <= {it["id"] for it in items}

    dump = subprocess.run(
        [pg_bin("pg_dump"), "--data-only", database_url], capture_output=True, check=True
    ).stdout
    assert b"entries" in dump
    assert b"vault_entries" in dump
    for needle in (EMAIL, "other.person@example.net", "team-chat-1", API_KEY):
        assert needle.encode() not in dump
