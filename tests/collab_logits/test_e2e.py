"""Logits mode end to end: the gateway with the real privacy engine and local model, and a
real llama.cpp server as the cloud (SmolLM2: same tokenizer; Gemma 3 270M: another one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from cogate.collab.logits import LogitsOptions
from cogate.collab.logits.stepper import LlamaStepper
from cogate.collab.runtime import LocalModel
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from cogate.proxy.servers import llama_server
from fastapi.testclient import TestClient

from ..proxy.doubles import ListLedger
from .support import assembler, gemma_path, outbound_texts

pytestmark = pytest.mark.e2e

PROFILE = (
    "## User Profile\nName: Isabel Martinez\nAge: 47\nLocation: Miami, Florida\n"
    "Privacy_info: Hosts a monthly dinner she calls the 'synergy supper'; Practices yoga "
    'every morning; Is writing a book called "Selling Blue Water"\n'
)
TASK = "## Task\nWrite a short invitation to a dinner party for clients."
PRIVATE = ("Isabel", "Martinez", "Miami", "synergy supper", "Selling Blue Water")
# Ask the cloud at nearly every word boundary, so that a short answer exercises fusion.
EAGER = LogitsOptions(margin_threshold=1.1, min_gap=3, draft_tokens=6, max_calls=8)


def request(stream: bool = False, max_tokens: int = 24) -> dict:
    return {
        "model": "cloud",
        "messages": [{"role": "user", "content": f"{PROFILE}\n{TASK}"}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": stream,
    }


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory):
    """The privacy engine (logits policy) and the local model, loaded once."""
    from cogate.policies.privacy import Privacy

    home = tmp_path_factory.mktemp("logits-home")
    policy = home / "policy.yaml"
    policy.write_text("mode: logits\n")
    settings = Settings(policy=policy, data_dir=home)
    return Privacy(settings), LocalModel(settings), policy


@pytest.fixture(scope="session")
def gemma_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("gemma")
    with llama_server(folder, gemma_path(folder)) as url:
        yield url


def gateway(engine, upstream: str, ledger: ListLedger, tmp_path: Path, **kwargs) -> TestClient:
    privacy, model, policy = engine
    settings = Settings(upstream=upstream, policy=policy, data_dir=tmp_path / "data")
    return TestClient(
        create_app(settings, assembler(privacy, model, ledger, **kwargs)),
        base_url="http://127.0.0.1",
    )


def drafts(ledger: ListLedger) -> list:
    return [r for r in ledger.egress if r.note.get("purpose") == "draft"]


def assert_nothing_private_left(ledger: ListLedger) -> None:
    texts = outbound_texts(ledger)
    assert texts, "nothing was sent at all"
    for text in texts:
        for item in PRIVATE:
            assert item.lower() not in text.lower(), f"{item!r} left the device"


def test_logits_mode_with_a_same_family_cloud(engine, llama_upstream, tmp_path):
    ledger = ListLedger()
    with gateway(engine, llama_upstream, ledger, tmp_path, options=EAGER) as client:
        reply = client.post("/v1/chat/completions", json=request())
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-cogate-mode"] == "logits"
    body = reply.json()
    assert body["choices"][0]["message"]["content"].strip()
    assert body["usage"]["completion_tokens"] <= 24
    calls = int(reply.headers["x-cogate-logits-calls"])
    assert 1 <= calls <= EAGER.max_calls
    sent = drafts(ledger)
    assert len(sent) == calls  # every cloud call is a ledger entry of this exchange
    assert {r.exchange_id for r in ledger.egress} == {sent[0].exchange_id}
    assert all(r.destination_path == "/v1/completions" for r in sent)
    assert_nothing_private_left(ledger)


def test_logits_mode_streams_in_openai_format(engine, llama_upstream, tmp_path):
    ledger = ListLedger()
    with (
        gateway(engine, llama_upstream, ledger, tmp_path, options=EAGER) as client,
        client.stream("POST", "/v1/chat/completions", json=request(stream=True)) as reply,
    ):
        assert reply.status_code == 200
        assert reply.headers["x-cogate-mode"] == "logits"
        lines = [line for line in reply.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.strip()
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert drafts(ledger)
    assert_nothing_private_left(ledger)


def test_logits_mode_with_a_cloud_of_another_tokenizer(engine, gemma_upstream, tmp_path):
    ledger = ListLedger()
    with gateway(engine, gemma_upstream, ledger, tmp_path, options=EAGER) as client:
        reply = client.post("/v1/chat/completions", json=request())
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"].strip()
    assert int(reply.headers["x-cogate-logits-calls"]) >= 1
    # Gemma's pieces still line up with SmolLM2's through bytes on some tokens.
    assert int(reply.headers["x-cogate-logits-accepted"]) >= 1
    assert_nothing_private_left(ledger)


SCRIPT = (
    b"Dear friends, I am Isabel Martinez from Miami, and you are invited to my "
    b"'synergy supper' where I will read from Selling Blue Water. Please"
)


class CopyingStepper(LlamaStepper):
    """A local model forced (by a logit bias) to copy profile facts into its answer."""

    def __init__(self, llama) -> None:
        super().__init__(llama)
        self.written = b""

    def start(self, prompt: list[int]) -> np.ndarray:
        self.written = b""
        return self._bias(super().start(prompt))

    def step(self, token: int) -> np.ndarray:
        self.written += self.piece(token) or b""
        return self._bias(super().step(token))

    def _bias(self, logits: np.ndarray) -> np.ndarray:
        if SCRIPT.startswith(self.written) and len(self.written) < len(SCRIPT):
            token = self.first_token(SCRIPT[len(self.written) :])
            if token is not None:
                logits[token] += 100.0
        return logits


def test_facts_the_local_model_copies_never_reach_the_cloud(engine, llama_upstream, tmp_path):
    ledger = ListLedger()
    options = LogitsOptions(margin_threshold=1.1, min_gap=2, draft_tokens=4, max_calls=20)
    with gateway(
        engine, llama_upstream, ledger, tmp_path, options=options, stepper=CopyingStepper
    ) as client:
        reply = client.post("/v1/chat/completions", json=request(max_tokens=40))
    assert reply.status_code == 200, reply.text
    answer = reply.json()["choices"][0]["message"]["content"]
    # The copy happened: the answer the app sees carries the facts...
    assert "Isabel Martinez from Miami" in answer
    assert "synergy supper" in answer
    # ...and the cloud was consulted after them, on a prefix that had them.
    late = [
        r
        for r in drafts(ledger)
        if r.note["prefix_chars"] > len("Dear friends, I am Isabel Martinez from Miami, and")
    ]
    assert late
    # ...but what left carried placeholders or nothing in their place.
    assert_nothing_private_left(ledger)


def test_logits_mode_through_cogate_serve(llama_upstream, tmp_path):
    from cogate.proxy.servers import cogate_server

    policy = tmp_path / "policy.yaml"
    policy.write_text("mode: logits\n")
    with cogate_server(tmp_path, llama_upstream, args=["--policy", str(policy)]) as url:
        plain = httpx.post(
            f"{url}/chat/completions", json=request(max_tokens=12), timeout=600, trust_env=False
        )
        assert plain.status_code == 200, plain.text
        assert plain.headers["x-cogate-mode"] == "logits"
        assert plain.headers["x-cogate-audit-id"]
        assert plain.json()["choices"][0]["message"]["content"].strip()
        with httpx.stream(
            "POST",
            f"{url}/chat/completions",
            timeout=600,
            trust_env=False,
            json=request(stream=True, max_tokens=12),
        ) as streamed:
            assert streamed.status_code == 200
            assert streamed.headers["x-cogate-mode"] == "logits"
            lines = [line for line in streamed.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
