"""The capability probe and the fallback against a chat-only upstream (a scripted one)."""

from __future__ import annotations

import json

import httpx
import pytest
from cogate.collab.logits import LOGITS_FALLBACK_HEADER as FALLBACK_HEADER
from cogate.collab.logits.cloud import parse_draft
from cogate.core.settings import Settings
from cogate.policies.schema import Policy
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from cogate.proxy.pipeline import Reply
from fastapi.testclient import TestClient

from ..proxy.doubles import ListLedger


class ChatOnly:
    """An upstream that knows chat completions only (like OpenAI's chat models)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path.endswith("/chat/completions"):
            return httpx.Response(200, json={"choices": [{"message": {"content": "- a point"}}]})
        return httpx.Response(404, json={"error": {"message": "no such route"}})


class FakeModel:
    name = "fake-local"
    context = 4096

    def check_capacity(self) -> None:
        pass

    async def ready(self) -> None:
        pass

    def status(self) -> dict:
        return {}

    def bound(self, ex, gate) -> FakeModel:
        return self  # on this device: nothing to record per exchange


class SketchDouble:
    """Stands in for the sketch runner: sends its outline request through the gate it gets."""

    def __init__(self) -> None:
        self.ran = 0

    async def run(self, ex, gate) -> Reply:
        self.ran += 1
        await gate.send(
            ex,
            "chat/completions",
            {"messages": [{"role": "user", "content": "x"}]},
            note={"purpose": "sketch outline"},
        )
        return Reply(status=200, body=b'{"choices": []}')


class FixedPolicy:
    """A privacy engine (core's Sanitizer) that puts every request under `policy` in logits
    mode and finds nothing."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def resolve(self, ex) -> None:
        ex.policy = self.policy
        ex.mode = "logits"

    def sanitize(self, ex) -> None:
        pass

    def sanitize_text(self, ex, text: str, field: str) -> str:
        return text

    def private_spans(self, ex, text: str) -> list[tuple[str, int, int]]:
        return []


def gateway(upstream, ledger, policy, fallbacks):
    def assemble(settings: Settings):
        return assemble_pipeline(
            settings,
            transport=httpx.MockTransport(upstream),
            ledger=ledger,
            privacy=FixedPolicy(policy),
            model=FakeModel(),
            runners=fallbacks,
            logits={"fallbacks": fallbacks},
        )

    settings = Settings(upstream="http://upstream.test/v1")
    return TestClient(create_app(settings, assemble), base_url="http://127.0.0.1")


BODY = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "I am Ana from Lyon."},
        {"role": "user", "content": "Write a haiku about rain."},
    ],
}


def test_a_chat_only_upstream_falls_back_to_sketch_once_probed():
    upstream, ledger, sketch = ChatOnly(), ListLedger(), SketchDouble()
    policy = Policy.model_validate({"collab": {"logits_fallback": "sketch"}})
    with gateway(upstream, ledger, policy, {"sketch": sketch}) as client:
        first = client.post("/v1/chat/completions", json=BODY)
        second = client.post("/v1/chat/completions", json=BODY)
    for reply in (first, second):
        assert reply.status_code == 200
        assert reply.headers[FALLBACK_HEADER].startswith("sketch; reason=upstream has no usable")
        assert reply.headers["x-cogate-mode"] == "sketch"
    assert sketch.ran == 2
    # Probed once and remembered; the probe carries nothing from the request.
    assert upstream.paths.count("/v1/completions") == 1
    probe = ledger.egress[0]
    assert probe.note["purpose"] == "capability-probe"
    assert b"Ana" not in probe.body and b"haiku" not in probe.body
    # The fallback's own egress says why it happened.
    outlines = [r for r in ledger.egress if r.note.get("purpose") == "sketch outline"]
    assert len(outlines) == 2
    assert all(r.note["logits_fallback"] == "sketch" for r in outlines)
    assert all("usable" in r.note["logits_fallback_reason"] for r in outlines)


def test_a_policy_that_says_refuse_gets_an_openai_shaped_error():
    upstream, ledger = ChatOnly(), ListLedger()
    policy = Policy.model_validate({"collab": {"logits_fallback": "refuse"}})
    with gateway(upstream, ledger, policy, {"sketch": SketchDouble()}) as client:
        reply = client.post("/v1/chat/completions", json=BODY)
    assert reply.status_code == 502
    assert reply.json()["error"]["code"] == "logits_unsupported"
    assert reply.headers[FALLBACK_HEADER].startswith("refused; reason=")
    refused = [r for r in ledger.egress if r.kind == "local"]
    assert refused and refused[0].note["outcome"] == "refused"


def test_without_a_fallback_runner_logits_mode_refuses():
    upstream, ledger = ChatOnly(), ListLedger()
    with gateway(upstream, ledger, Policy(), {}) as client:
        reply = client.post("/v1/chat/completions", json=BODY)
    assert reply.status_code == 502
    assert "legacy /v1/completions" in reply.json()["error"]["message"]


def test_transient_probe_failures_are_not_remembered():
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(503, json={"error": {"message": "busy"}})

    ledger = ListLedger()
    with gateway(flaky, ledger, Policy(), {"sketch": SketchDouble()}) as client:
        client.post("/v1/chat/completions", json=BODY)
        client.post("/v1/chat/completions", json=BODY)
    probes = [r for r in ledger.egress if r.note.get("purpose") == "capability-probe"]
    assert len(probes) == 2


@pytest.mark.parametrize("finish", ["stop", "length"])
def test_parse_draft_reads_legacy_logprobs(finish):
    data = {
        "choices": [
            {
                "text": "\n Hi there",
                "finish_reason": finish,
                "logprobs": {
                    "tokens": ["\n", " Hi", " there"],
                    "token_logprobs": [-0.1, -0.2, -0.3],
                    "top_logprobs": [{"\n": -0.1}, {" Hi": -0.2, " Hello": -1.9}, None],
                },
            }
        ]
    }
    draft = parse_draft(json.loads(json.dumps(data)), at_start=True)
    assert [s.token for s in draft.steps] == [b" Hi", b" there"]  # layout whitespace dropped
    assert draft.steps[0].top == {b" Hi": -0.2, b" Hello": -1.9}
    assert draft.steps[1].top == {} and draft.steps[1].logprob == -0.3
    assert draft.stopped is (finish == "stop")


class WithLogprobs:
    """An upstream that continues raw prompts with top-k logprobs (the probe passes)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        step = {"tokens": [" a"], "token_logprobs": [-0.1], "top_logprobs": [{" a": -0.1}]}
        return httpx.Response(200, json={"choices": [{"text": " a", "logprobs": step}]})


class LocalDouble:
    """Stands in for the local runner: records the local answer through the gate it gets."""

    def __init__(self) -> None:
        self.ran = 0

    async def run(self, ex, gate) -> Reply:
        self.ran += 1
        await gate.record_local(ex, note={"local_model": "fake-local"})
        return Reply(status=200, body=b'{"choices": []}')


SENSITIVE = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "I am Ana from Lyon."},
        {"role": "user", "content": "Tell my boss my lithium dose changed after a relapse."},
    ],
}


def test_a_sensitive_task_in_logits_mode_is_answered_locally():
    upstream, ledger, local = WithLogprobs(), ListLedger(), LocalDouble()
    with gateway(upstream, ledger, Policy(), {"local": local}) as client:
        reply = client.post("/v1/chat/completions", json=SENSITIVE)
    assert reply.status_code == 200 and local.ran == 1
    assert reply.headers["x-cogate-mode"] == "local"
    assert reply.headers["x-cogate-sensitive-task"] == "local; categories=health"
    assert all(b"lithium" not in body for body in upstream.bodies)  # only the probe left
    record = [r for r in ledger.egress if r.kind == "local"][0]
    assert record.note["sensitive_task"] == "local" and record.note["collab"] == "logits"


def test_a_sensitive_task_without_a_local_runner_is_refused_by_name():
    upstream, ledger = WithLogprobs(), ListLedger()
    with gateway(upstream, ledger, Policy(), {}) as client:
        reply = client.post("/v1/chat/completions", json=SENSITIVE)
    assert reply.status_code == 400
    assert "sensitive_task" in reply.json()["error"]["message"]
    assert all(b"lithium" not in body for body in upstream.bodies)
    refusal = ledger.egress[-1]  # recorded as a refusal (no longer as a local answer)
    assert refusal.kind == "refusal" and refusal.refusal["code"] == "sensitive_task_refused"
    assert refusal.note["sensitive_task"] == "local" and reply.headers["x-cogate-audit-id"]
