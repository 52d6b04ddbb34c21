"""`cogate serve` keeps serving when the local model's worker process crashes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import openai
import pytest

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e

NO_UPSTREAM = "http://127.0.0.1:9/v1"  # local mode never reaches an upstream
STORY = [{"role": "user", "content": "Tell a long story about a lighthouse keeper."}]


def health(base: str) -> dict:
    return httpx.get(f"{base.removesuffix('/v1')}/cogate/health", trust_env=False).json()


def test_a_worker_crash_mid_stream_fails_one_request_and_the_gateway_serves_on(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "local.yaml"
    policy.write_text("mode: local\n")
    with cogate_server(tmp_path, NO_UPSTREAM, args=["--policy", str(policy)]) as base:
        client = openai.OpenAI(base_url=base, api_key="sk-test", max_retries=0)
        stream = client.chat.completions.create(
            model="any", messages=STORY, max_tokens=300, temperature=0, stream=True
        )
        chunks = iter(stream)
        next(chunks)  # the answer has started: the worker is generating
        pid = health(base)["local_model"]["worker"]["pid"]
        os.kill(pid, signal.SIGILL)
        with pytest.raises(openai.APIError) as failed:
            for _ in chunks:
                pass
        assert "SIGILL" in str(failed.value)
        worker = health(base)["local_model"]["worker"]
        assert worker["deaths"] == 1 and worker["last_death"] == "SIGILL while generating"
        # The gateway is up and the next request is answered by a new worker.
        reply = client.chat.completions.create(
            model="any", messages=STORY, max_tokens=4, temperature=0
        )
        assert reply.choices[0].message.content
        worker = health(base)["local_model"]["worker"]
        assert worker["pid"] != pid and worker["starts"] == 2
        metrics = httpx.get(f"{base.removesuffix('/v1')}/cogate/metrics", trust_env=False).text
        assert "cogate_local_worker_deaths 1.0" in metrics
    log = next(tmp_path.glob("cogate-*.log")).read_text()
    assert f"local model worker (pid {pid}) died with SIGILL while generating" in log
