"""The gateway's token as the app's API key (`Authorization: Bearer <cogate token>`), the
way apps that can set only a base URL and a key reach a shared gateway: the official openai
SDK, and simonw's `llm` configured only through OPENAI_BASE_URL and OPENAI_API_KEY.

`cogate tokens` and `cogate serve` run as an operator runs them, with COGATE_UPSTREAM_API_KEY
holding the upstream credential; the upstream is the Responses stand-in over llama.cpp, which
records the Authorization header of every request it receives.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.servers import cogate_server
from tests.standins.responses_upstream import Upstream, responses_upstream

pytestmark = pytest.mark.e2e

COGATE = str(Path(sys.executable).parent / "cogate")
UPSTREAM_KEY = "sk-upstream-held-by-the-gateway"
ELEANOR = "My name is Eleanor Vance, SSN 536-22-8841. Say hello to me."


def cogate(*args: str) -> str:
    result = subprocess.run([COGATE, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def upstream(llama_upstream: str) -> Iterator[Upstream]:
    with responses_upstream(llama_upstream) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("bearer")
    data = work / "data"
    token = cogate("tokens", "add", "notes-team", "--yes", "--data-dir", str(data)).split()[-1]
    env = {"COGATE_UPSTREAM_API_KEY": UPSTREAM_KEY}
    with cogate_server(work, upstream.url, env=env, data_dir=data) as url:
        yield {"url": url, "token": token, "data": data, "work": work}


def _only_the_gateway_key_left(upstream: Upstream, token: str, since: int) -> None:
    sent = upstream.credentials[since:]
    assert sent, "nothing reached the upstream"
    assert all(c == f"Bearer {UPSTREAM_KEY}" for c in sent), sent
    assert token not in upstream.seen()


def test_openai_sdk_with_only_the_bearer_token(gateway: dict, upstream: Upstream) -> None:
    since = len(upstream.credentials)
    client = openai.OpenAI(base_url=gateway["url"], api_key=gateway["token"], max_retries=0)
    chat = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": ELEANOR}], max_tokens=8
    )
    assert chat.choices[0].message is not None
    answer = client.responses.create(model="m", input=ELEANOR, max_output_tokens=8)
    assert answer.id.startswith("resp_")
    _only_the_gateway_key_left(upstream, gateway["token"], since)
    assert "536-22-8841" not in upstream.seen()
    wrong = openai.OpenAI(base_url=gateway["url"], api_key="cgt_not-a-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.responses.create(model="m", input="hi", max_output_tokens=4)
    # An upstream key as the Bearer is no gateway token: the shared gateway still refuses.
    plain = openai.OpenAI(base_url=gateway["url"], api_key="sk-someone", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        plain.responses.create(model="m", input="hi", max_output_tokens=4)


def test_llm_configured_only_through_openai_env(gateway: dict, upstream: Upstream) -> None:
    since = len(upstream.credentials)
    home = gateway["work"] / "llm-home"
    home.mkdir(exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_"))},
        "OPENAI_BASE_URL": gateway["url"],
        "OPENAI_API_KEY": gateway["token"],
        "LLM_USER_PATH": str(home),  # llm's own log database: kept out of the real home
    }
    result = subprocess.run(
        [sys.executable, "-m", "llm", "-m", "gpt-4o-mini", "-o", "max_tokens", "8", ELEANOR],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    paths = [r["path"] for r in upstream.received[since:]]
    assert paths == ["/v1/chat/completions"], paths  # llm 0.36 asks gpt-4o-mini there
    _only_the_gateway_key_left(upstream, gateway["token"], since)
    assert "536-22-8841" not in upstream.seen()
