"""What an operator meets in the first minutes of `cogate serve`: the banner, the health of
each upstream, and the app's own headers (organization, project, referer, title, user agent)
reaching the upstream through the official openai SDK."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.servers import cogate_server
from tests.standins.recording_relay import recording_relay

pytestmark = pytest.mark.e2e


def test_banner_health_and_app_headers(llama_upstream: str, tmp_path: Path) -> None:
    root = llama_upstream.removesuffix("/v1")
    with recording_relay(root) as relay:
        policy = tmp_path / "passthrough.yaml"
        policy.write_text("mode: passthrough\n")
        args = ["--policy", str(policy), "--anthropic-upstream", relay.url]
        with cogate_server(tmp_path, relay.url + "/v1", args=args) as gateway:
            base = gateway.removesuffix("/v1")
            banner = gateway.log.read_text()
            health = httpx.get(f"{base}/cogate/health", trust_env=False).json()

            client = openai.OpenAI(
                base_url=gateway,
                api_key="sk-test-not-a-real-key",
                organization="org-Acme123",
                project="proj_Billing42",
                default_headers={
                    "HTTP-Referer": "https://myapp.example",
                    "X-Title": "Release Notes Helper",
                    "OpenAI-Beta": "assistants=v2",
                },
                max_retries=0,
            )
            answer = client.chat.completions.create(
                model="smollm2",
                messages=[{"role": "user", "content": "Name a colour."}],
                max_tokens=8,
            )
            assert answer.choices[0].message.content
            sent = relay.seen[-1]
            titled = openai.OpenAI(
                base_url=gateway,
                api_key="sk-test-not-a-real-key",
                default_headers={"X-Title": "Notes of Margaret Thornbury"},
                max_retries=0,
            )
            with pytest.raises(openai.BadRequestError) as refused:
                titled.chat.completions.create(
                    model="smollm2", messages=[{"role": "user", "content": "hi"}], max_tokens=4
                )
            relayed = len(relay.seen)

        # The relay goes away: the gateway (a new one would say the same) is degraded.
        relay.shutdown()
        relay.server_close()

    for line in (
        "cogate 0.",
        "policy       passthrough from",
        f"openai {relay.url}/v1",
        f"ledger       SQLite {tmp_path / 'data'}",
        "local model",
        f"export OPENAI_BASE_URL={base}/v1",
        f"export ANTHROPIC_BASE_URL={base}",
        "ready in",
    ):
        assert line in banner, line
    assert banner.index("export OPENAI_BASE_URL") < banner.index("ready in")

    assert health["status"] == "ok"
    assert {u["name"]: u["reachable"] for u in health["upstreams"]} == {
        "openai": True,
        "anthropic": True,
    }
    assert health["local_model"]["status"]

    assert sent["openai-organization"] == "org-Acme123"
    assert sent["openai-project"] == "proj_Billing42"
    assert sent["http-referer"] == "https://myapp.example"
    assert sent["x-title"] == "Release Notes Helper"
    assert sent["openai-beta"] == "assistants=v2"
    assert sent["user-agent"].startswith("OpenAI/Python")  # the app's, not the gateway's
    assert "x-title" in str(refused.value) and "PERSON" in str(refused.value)
    assert relayed == 1  # the titled request never left


def test_health_is_degraded_when_the_upstream_is_down(tmp_path: Path) -> None:
    closed = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    args = ["--anthropic-upstream", "http://127.0.0.1:9"]
    with cogate_server(tmp_path, closed, args=args) as gateway:
        base = gateway.removesuffix("/v1")
        first = httpx.get(f"{base}/cogate/health", trust_env=False).json()
        time.sleep(0.1)
        again = httpx.get(f"{base}/cogate/health", trust_env=False)
    assert first["status"] == "degraded"
    assert first["unreachable"] == ["openai", "anthropic"]
    assert first["upstreams"][0] == {
        "name": "openai",
        "url": closed,
        "reachable": False,
        "error": "Connection refused",
    }
    assert again.status_code == 200  # the gateway itself answers
