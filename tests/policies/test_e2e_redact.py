"""openai SDK → `cogate serve` (redact) → recording proxy → real llama.cpp server.

The recording proxy shows what left the device: no private value of the app's requests,
only placeholders; and the app gets its own values back in the answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.servers import cogate_server

from .recording import Recording, recording_proxy

pytestmark = pytest.mark.e2e

NAME, EMAIL, PHONE = "Isabel Martinez", "isabel.martinez@example.com", "+44 20 7946 0958"
SECRET = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w"
PRIVATE = [NAME, "Isabel", "Martinez", EMAIL, PHONE, SECRET]
POLICY = """
mode: redact
actions:
  default: pseudonymize
  SECRET: pseudonymize
"""
PLACEHOLDER = re.compile(r"\[(PERSON|EMAIL|PHONE|SECRET)_\d+\]")


@pytest.fixture(scope="module")
def gateway(llama_upstream: str, tmp_path_factory) -> Iterator[tuple[str, Recording]]:
    work = tmp_path_factory.mktemp("redact-gateway")
    policy = work / "redact.yaml"
    policy.write_text(POLICY)
    with (
        recording_proxy(llama_upstream) as (upstream, recording),
        # The worker for every text (`auto` would keep some here while the cores are busy).
        cogate_server(
            work, upstream, args=["--policy", str(policy)], env={"COGATE_NER_ISOLATION": "process"}
        ) as url,
    ):
        yield url, recording


@pytest.fixture
def client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway[0], api_key="sk-test-not-a-real-key", max_retries=0)


@pytest.fixture
def recording(gateway) -> Recording:
    gateway[1].clear()
    return gateway[1]


def assert_nothing_private_left(recording: Recording) -> None:
    sent = recording.sent()
    assert sent, "nothing reached the upstream"
    for value in PRIVATE:
        assert value not in sent, "a private value reached the upstream"


def assert_restored(app_text: str, recording: Recording) -> None:
    """Every placeholder the model produced comes back to the app as the app's own value."""
    assert not PLACEHOLDER.search(app_text)
    if "[EMAIL_1]" in recording.answered():
        assert EMAIL in app_text


MESSAGES = [
    {"role": "system", "content": f"You help {NAME} ({EMAIL}, phone {PHONE})."},
    {"role": "user", "content": f"Repeat exactly, nothing else: {EMAIL}"},
]


def test_chat_plain(client, recording) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="smollm2",
        messages=MESSAGES,
        max_tokens=24,
        temperature=0,
        extra_headers={"x-cogate-conversation": "e2e-1"},
    )
    assert raw.headers["x-cogate-mode"] == "redact"
    assert raw.headers["x-cogate-audit-id"]
    answer = raw.parse().choices[0].message.content
    assert_nothing_private_left(recording)
    assert "[EMAIL_1]" in recording.sent() and "[PERSON_1]" in recording.sent()
    assert_restored(answer, recording)


def test_chat_streamed(client, recording) -> None:
    stream = client.chat.completions.create(
        model="smollm2",
        messages=MESSAGES,
        max_tokens=24,
        temperature=0,
        stream=True,
        extra_headers={"x-cogate-conversation": "e2e-1"},
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert_nothing_private_left(recording)
    assert_restored("".join(pieces), recording)


def test_tool_calls_and_results(client, recording) -> None:
    messages = [
        {"role": "user", "content": f"Mail {NAME} please."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "send_mail", "arguments": json.dumps({"to": EMAIL})},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_1",
            "content": json.dumps({"status": "sent", "to": EMAIL, "key": SECRET}),
        },
    ]
    tools = [
        {
            "type": "function",
            "function": {
                "name": "send_mail",
                "description": f"Send mail from {EMAIL}",
                "parameters": {"type": "object", "properties": {"to": {"type": "string"}}},
            },
        }
    ]
    # The small local model may not take tool messages; what left is what counts.
    with contextlib.suppress(openai.APIStatusError):
        client.chat.completions.create(
            model="smollm2", messages=messages, tools=tools, max_tokens=16, temperature=0
        )
    assert_nothing_private_left(recording)


def test_completions_and_embeddings(client, recording) -> None:
    text = (
        client.completions.create(
            model="smollm2", prompt=f"Email of {NAME}: {EMAIL}.", max_tokens=8, temperature=0
        )
        .choices[0]
        .text
    )
    assert not PLACEHOLDER.search(text)
    client.embeddings.create(model="smollm2", input=[f"{NAME} lives at {EMAIL}"])
    assert_nothing_private_left(recording)


def test_blocked_request_leaves_nothing(gateway, tmp_path, llama_upstream) -> None:
    policy = tmp_path / "default-like.yaml"
    policy.write_text("mode: redact\n")  # the shipped default: payment cards are blocked
    with (
        recording_proxy(llama_upstream) as (upstream, recording),
        cogate_server(tmp_path, upstream, args=["--policy", str(policy)]) as url,
    ):
        client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)
        with pytest.raises(openai.PermissionDeniedError) as info:
            client.chat.completions.create(
                model="smollm2",
                max_tokens=4,
                messages=[{"role": "user", "content": "Pay with 4111 1111 1111 1111"}],
            )
        assert "CREDIT_CARD" in str(info.value) and "4111" not in str(info.value)
        assert recording.requests == []


def test_names_are_found_by_the_ner_worker_and_a_killed_one_is_replaced(
    gateway, client, recording
) -> None:
    root = gateway[0].removesuffix("/v1")
    detection = httpx.get(f"{root}/cogate/health", trust_env=False).json()["detection"]
    assert detection["ner_isolation"] == "process"
    victim = detection["ner_worker"]["pid"]
    os.kill(victim, signal.SIGKILL)
    # The next request is served (its text read by a new worker) and redacted.
    private = "Thaddeus Okonkwo-Ferreira"
    client.chat.completions.create(
        model="smollm2",
        max_tokens=4,
        messages=[{"role": "user", "content": f"Write a haiku for {private}, after the kill."}],
    )
    sent = recording.sent()
    assert "Thaddeus" not in sent and "Okonkwo" not in sent and "[PERSON_" in sent
    worker = httpx.get(f"{root}/cogate/health", trust_env=False).json()["detection"]["ner_worker"]
    assert worker["deaths"] == 1 and worker["pid"] not in (None, victim)
    metrics = httpx.get(f"{root}/cogate/metrics", trust_env=False).text
    assert "cogate_ner_worker_deaths 1.0" in metrics


def test_french_sentences_are_read_by_the_french_model_in_the_worker(
    gateway, client, recording
) -> None:
    # The English model alone finds none of these in French sentences (tests/policies/
    # test_french_ner.py); the worker's French pipeline does, in a mixed-language message.
    message = (
        "Summarise this note, please. Le rapport de Thomas Girard est prêt. "
        "C'est Yannick Le Bihan qui signe le bail à Lorient."
    )
    client.chat.completions.create(
        model="smollm2", max_tokens=4, messages=[{"role": "user", "content": message}]
    )
    sent = recording.sent()
    for private in ("Thomas", "Girard", "Yannick", "Bihan", "Lorient"):
        assert private not in sent
    assert "Le rapport de [PERSON_" in sent and "Summarise this note" in sent
