"""The official openai SDK and the OpenAI Agents SDK speak the Responses API through
`cogate serve` (redact mode) to a stand-in Responses upstream on a real llama.cpp model."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
import zstandard

from tests.servers import cogate_server
from tests.standins.responses_upstream import Upstream, responses_upstream

pytestmark = pytest.mark.e2e

EMAIL = "jane.doe@example.com"
PHONE = "+1 415 555 0134"
PRIVATE = (EMAIL, PHONE, "Jane Doe")
INSTRUCTIONS = f"You assist Jane Doe. Her email is {EMAIL} and her phone is {PHONE}."


@pytest.fixture(scope="module")
def standin(llama_upstream: str) -> Iterator[Upstream]:
    with responses_upstream(llama_upstream) as upstream:
        yield upstream


@pytest.fixture(scope="module")
def gateway_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gateway")


@pytest.fixture(scope="module")
def gateway(standin: Upstream, gateway_dir: Path) -> Iterator[str]:
    with cogate_server(gateway_dir, standin.url) as url:  # the shipped default policy: redact
        yield url


@pytest.fixture
def client(gateway: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway, api_key="sk-test-not-a-real-key", max_retries=0)


def assert_nothing_private_left(standin: Upstream) -> None:
    seen = standin.seen()
    assert standin.received, "the stand-in was never called"
    for value in PRIVATE:
        assert value not in seen


def test_create_is_redacted_and_restored(client: openai.OpenAI, standin: Upstream) -> None:
    raw = client.responses.with_raw_response.create(
        model="smollm2",
        instructions=INSTRUCTIONS,
        input=f"Repeat exactly: write to {EMAIL}",
        max_output_tokens=24,
    )
    assert raw.headers["x-cogate-mode"] == "redact"
    response = raw.parse()
    assert response.output_text.strip()
    assert response.instructions == INSTRUCTIONS  # the echoed placeholders came back restored
    assert_nothing_private_left(standin)
    sent = standin.received[-1]["body"]
    assert "[EMAIL_1]" in sent["input"] and "[PERSON_1]" in sent["instructions"]

    # What the upstream stored (placeholders only) comes back restored.
    again = client.responses.retrieve(response.id)
    assert again.output_text == response.output_text and again.instructions == INSTRUCTIONS
    items = client.responses.input_items.list(response.id)
    assert EMAIL in json.dumps([i.model_dump() for i in items.data])
    stored = standin.stored[response.id]
    assert EMAIL not in json.dumps(stored) and EMAIL not in json.dumps(standin.inputs[response.id])


def test_previous_response_id_turns_share_one_vault(
    client: openai.OpenAI, standin: Upstream
) -> None:
    first = client.responses.create(
        model="smollm2", input=f"My email is {EMAIL}. Say ok.", max_output_tokens=8
    )
    second = client.responses.create(
        model="smollm2",
        previous_response_id=first.id,
        input=f"Again: my email is {EMAIL} and my phone is {PHONE}.",
        max_output_tokens=8,
    )
    assert second.previous_response_id == first.id
    bodies = [r["body"] for r in standin.received[-2:]]
    # The same value got the same placeholder in both turns: one vault along the chain.
    assert "[EMAIL_1]" in bodies[0]["input"] and "[EMAIL_1]" in bodies[1]["input"]
    assert "[PHONE_1]" in bodies[1]["input"]
    assert_nothing_private_left(standin)
    items = client.responses.input_items.list(second.id)
    assert PHONE in json.dumps([i.model_dump() for i in items.data])


def test_streamed_copies_agree(client: openai.OpenAI, standin: Upstream) -> None:
    stream = client.responses.create(
        model="smollm2",
        instructions=INSTRUCTIONS,
        input=f"Write one sentence mentioning {EMAIL}.",
        max_output_tokens=32,
        stream=True,
    )
    events = list(stream)
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    done = next(e.text for e in events if e.type == "response.output_text.done")
    completed = next(e.response for e in events if e.type == "response.completed")
    assert deltas and deltas == done == completed.output_text
    assert completed.instructions == INSTRUCTIONS
    numbers = [e.sequence_number for e in events]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert len([e for e in events if e.type == "response.output_text.delta"]) > 1
    assert_nothing_private_left(standin)


def test_stream_helper_final_response(client: openai.OpenAI, standin: Upstream) -> None:
    with client.responses.stream(
        model="smollm2", input=f"Greet Jane Doe at {EMAIL}.", max_output_tokens=24
    ) as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert final.output_text == text
    assert_nothing_private_left(standin)


def test_input_tokens_and_compact(client: openai.OpenAI, standin: Upstream) -> None:
    counted = client.responses.input_tokens.count(
        model="smollm2", instructions=INSTRUCTIONS, input=f"Mail {EMAIL}"
    )
    assert counted.input_tokens > 0
    compacted = client.responses.compact(
        model="smollm2", input=[{"role": "user", "content": f"I am Jane Doe, {EMAIL}."}]
    )
    assert compacted.output
    kept = json.dumps([item.model_dump() for item in compacted.output])
    assert EMAIL in kept  # the user's own item came back restored
    assert_nothing_private_left(standin)


def test_agents_sdk_runs_a_function_tool(gateway: str, standin: Upstream) -> None:
    agents = pytest.importorskip("agents")
    agents.set_tracing_disabled(True)
    calls: list[str] = []

    @agents.function_tool
    def send_reminder(email: str) -> str:
        """Send a reminder to an email address."""
        calls.append(email)
        return "reminder sent"

    model = agents.OpenAIResponsesModel(
        model="smollm2",
        openai_client=openai.AsyncOpenAI(base_url=gateway, api_key="sk-test", max_retries=0),
    )
    agent = agents.Agent(
        name="assistant",
        instructions=f"You help Jane Doe ({EMAIL}). Use send_reminder with her email.",
        model=model,
        tools=[send_reminder],
        model_settings=agents.ModelSettings(max_tokens=32, temperature=0),
    )
    result = agents.Runner.run_sync(agent, f"Remind me at {EMAIL}.", max_turns=3)
    assert calls, "the agent never ran its tool"
    assert isinstance(result.final_output, str)
    # The tool ran on the app's side with the app's own values, never the placeholders.
    assert not any("[EMAIL_" in call for call in calls)
    assert_nothing_private_left(standin)


# -- transport ------------------------------------------------------------------------------


def post(gateway: str, raw: bytes, encoding: str) -> httpx.Response:
    headers = {"content-type": "application/json", "content-encoding": encoding}
    return httpx.post(f"{gateway}/responses", content=raw, headers=headers, timeout=300)


@pytest.mark.parametrize("encoding", ["zstd", "gzip"])
def test_compressed_bodies_are_decoded_scanned_and_forwarded(
    gateway: str, standin: Upstream, encoding: str
) -> None:
    body = json.dumps({"model": "m", "input": f"Say hi to {EMAIL}", "max_output_tokens": 4})
    compress = zstandard.ZstdCompressor().compress if encoding == "zstd" else gzip.compress
    before = len(standin.received)
    answer = post(gateway, compress(body.encode()), encoding)
    assert answer.status_code == 200, answer.text
    assert len(standin.received) == before + 1
    assert "[EMAIL_1]" in standin.received[-1]["body"]["input"]
    assert_nothing_private_left(standin)


def test_unknown_encoding_is_refused(gateway: str, standin: Upstream) -> None:
    before = len(standin.received)
    answer = post(gateway, b"\x00\x01", "compress")
    assert answer.status_code == 415
    assert "compress" in answer.json()["error"]["message"]
    assert len(standin.received) == before


def test_websocket_upgrade_gets_426(gateway: str) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = gateway.replace("http://", "ws://") + "/responses"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=30)
    assert refused.value.response.status_code == 426


def test_other_paths_are_refused(gateway: str, standin: Upstream) -> None:
    before = len(standin.received)
    answer = httpx.post(f"{gateway}/responses/resp_1/secret_feature", json={"x": EMAIL})
    assert answer.status_code == 404
    assert len(standin.received) == before


def test_process_stays_healthy_after_refusals(gateway: str) -> None:
    assert httpx.get(gateway.removesuffix("/v1") + "/cogate/health").status_code == 200


def test_local_mode_answers_on_the_device(client: openai.OpenAI, standin: Upstream) -> None:
    before = len(standin.received)
    local = {"x-cogate-mode": "local"}
    raw = client.responses.with_raw_response.create(
        model="smollm2", instructions=INSTRUCTIONS, input="Say hello.",
        max_output_tokens=12, extra_headers=local,
    )  # fmt: skip
    assert raw.headers["x-cogate-mode"] == "local"
    whole = raw.parse()
    assert whole.output_text.strip() and whole.usage.output_tokens > 0
    stream = client.responses.create(
        model="smollm2", input="Count to three.", max_output_tokens=12, extra_headers=local,
        stream=True,
    )  # fmt: skip
    events = list(stream)
    # A cut-off answer ends with response.incomplete, as OpenAI's does.
    assert events[-1].type in ("response.completed", "response.incomplete")
    final = events[-1].response
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == final.output_text and deltas.strip()
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert len(standin.received) == before  # nothing left the device


def test_mcp_credentials_are_forwarded_never_stored(
    client: openai.OpenAI, standin: Upstream, gateway_dir: Path
) -> None:
    token = "mcp-credential-7f3a9c"
    mcp = {
        "type": "mcp", "server_label": "notes", "server_url": "https://mcp.example/sse",
        "authorization": token, "headers": {"X-Team": "mcp-header-4e1b"},
        "require_approval": "never",
    }  # fmt: skip
    client.responses.create(
        model="smollm2", input="Say ok to jane.doe@example.com.", tools=[mcp], max_output_tokens=4
    )
    assert standin.received[-1]["body"]["tools"][0]["authorization"] == token  # forwarded
    stored = [p.read_bytes() for p in (gateway_dir / "data").rglob("*") if p.is_file()]
    assert stored and not any(token.encode() in data for data in stored)
    assert not any(b"mcp-header-4e1b" in data for data in stored)
    # Issue 25: the body is still stored, credentials masked, and its findings counted.
    assert any(b"[CREDENTIAL]" in data and b"[EMAIL_" in data for data in stored)
    logs = [p.read_bytes() for p in gateway_dir.glob("cogate-*.log")]
    assert not any(token.encode() in data for data in logs)
