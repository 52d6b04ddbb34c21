"""Answers larger than the offload size are restored in a worker thread, like small ones."""

from __future__ import annotations

import httpx
from cogate.core.exchange import Finding
from cogate.policies.restore import VaultRestorer as Restorer
from cogate.policies.vault.memory import Vault
from cogate.proxy.pipeline import OFFLOAD_EVENT_BYTES

from .test_gateway import CHAT, chat_answer, gateway

VAULT = Vault()
PLACEHOLDER = VAULT.pseudonym("PERSON", "Margaret Thornbury")


def redacting(ex) -> None:
    ex.outbound = ex.raw
    ex.findings.append(Finding("PERSON", 0, 2, 0.9, "test"))
    ex.restorer = Restorer(VAULT)


def test_a_large_answer_is_restored() -> None:
    text = f"Dear {PLACEHOLDER}. " * (OFFLOAD_EVENT_BYTES // 10)
    client, _ = gateway(
        lambda request: httpx.Response(200, json=chat_answer(text)),
        stage=redacting,
    )
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    content = response.json()["choices"][0]["message"]["content"]
    assert len(text) > OFFLOAD_EVENT_BYTES
    assert content == "Dear Margaret Thornbury. " * (OFFLOAD_EVENT_BYTES // 10)


def test_a_large_unreadable_answer_is_a_clear_502() -> None:
    garbage = b"<html>" + b"x" * (2 * OFFLOAD_EVENT_BYTES)
    client, _ = gateway(lambda request: httpx.Response(200, content=garbage), stage=redacting)
    with client:
        response = client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_bad_response"
