"""The official anthropic SDK through `cogate serve` to a Messages stand-in on a real model.

The stand-in (tests/standins/messages_upstream.py) answers with llama.cpp, signs its thinking
blocks and rejects changed ones, and records every byte it receives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import httpx2
import pytest
from cogate.proxy.surfaces.json_spans import spans

from tests.servers import cogate_server
from tests.standins.messages_upstream import MessagesUpstream, messages_upstream

pytestmark = pytest.mark.e2e

EMAIL = "jane.doe@example.com"
PHONE = "+1 415 555 0199"
PRIVATE = (EMAIL, PHONE)
TOOL = {
    "name": "lookup_contact",
    "description": "Look up a contact by email address.",
    "input_schema": {
        "type": "object",
        "properties": {"email": {"type": "string", "maxLength": 40}},
        "required": ["email"],
    },
}
THINKING = {"type": "enabled", "budget_tokens": 1024}


@pytest.fixture(scope="module")
def standin(llama_upstream: str) -> Iterator[MessagesUpstream]:
    with messages_upstream(llama_upstream) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(
    standin: MessagesUpstream, llama_upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    work = tmp_path_factory.mktemp("messages-gateway")
    args = ["--anthropic-upstream", standin.url]
    with cogate_server(work, llama_upstream, args=args) as url:
        yield url.removesuffix("/v1")  # ANTHROPIC_BASE_URL has no /v1


class Sent:
    """The exact request bodies the app's SDK put on the wire."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self.headers: dict[str, str] = {}

    def __call__(self, request: httpx2.Request) -> None:
        self.bodies.append(request.read())
        self.paths.append(request.url.raw_path.decode())
        self.headers = dict(request.headers)


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def client(gateway: str, sent: Sent) -> anthropic.Anthropic:
    http = httpx2.Client(event_hooks={"request": [sent]}, timeout=600)
    return anthropic.Anthropic(
        base_url=gateway, api_key="sk-ant-test-key", max_retries=0, http_client=http
    )


def upstream_saw_no_private_value(standin: MessagesUpstream, since: int) -> None:
    assert len(standin.received) > since, "the stand-in received nothing"
    for record in standin.received[since:]:
        for value in PRIVATE:
            assert value.encode() not in record.body


def ask() -> list[dict]:
    return [
        {
            "role": "user",
            "content": f"Write one short line to {EMAIL} (phone {PHONE}) about Friday.",
        }
    ]


def test_create_sends_no_private_value(
    client: anthropic.Anthropic, standin: MessagesUpstream
) -> None:
    since = len(standin.received)
    raw = client.messages.with_raw_response.create(
        model="smollm2",
        max_tokens=24,
        system=f"You help the user, whose address is {EMAIL}.",
        messages=ask(),
    )
    message = raw.parse()
    assert message.content[0].type == "text" and message.content[0].text.strip()
    assert raw.headers["x-cogate-mode"] == "redact"
    assert raw.headers["x-cogate-audit-id"]
    assert raw.headers["request-id"].startswith("req_")  # the upstream's id, passed through
    assert message._request_id == raw.headers["request-id"]
    upstream_saw_no_private_value(standin, since)
    upstream = json.loads(standin.received[-1].body)
    assert "[EMAIL_1]" in upstream["system"]


def test_stream_and_final_message_agree(
    client: anthropic.Anthropic, standin: MessagesUpstream
) -> None:
    since = len(standin.received)
    with client.messages.stream(model="smollm2", max_tokens=24, messages=ask()) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len([p for p in pieces if p]) > 1  # streamed, not one buffered blob
    assert "".join(pieces) == final.content[0].text
    assert final.stop_reason in ("end_turn", "max_tokens")
    upstream_saw_no_private_value(standin, since)


def block_text(body: bytes, message: int, block: int) -> str:
    text = body.decode()
    start, end = spans(text, ("messages", None, "content", None))[
        ("messages", message, "content", block)
    ]
    return text[start:end]


def test_tool_use_across_two_turns_with_thinking_byte_for_byte(
    client: anthropic.Anthropic, standin: MessagesUpstream, sent: Sent
) -> None:
    since = len(standin.received)
    raw = client.messages.with_raw_response.create(
        model="smollm2",
        max_tokens=2048,
        thinking=THINKING,
        tools=[TOOL],
        tool_choice={"type": "tool", "name": "lookup_contact"},
        messages=ask(),
    )
    first = raw.parse()
    thinking, call = first.content
    assert thinking.type == "thinking" and call.type == "tool_use"
    # Written from the sanitized request: it holds placeholders, and cogate never restores it.
    assert "[EMAIL_1]" in thinking.thinking and EMAIL not in thinking.thinking
    # Upstream → app: the thinking block's bytes are the stand-in's bytes.
    given = raw.http_response.content.decode()
    theirs = standin.sent[-1].decode()
    assert (
        given[slice(*spans(given, ("content", None))[("content", 0)])]
        == theirs[slice(*spans(theirs, ("content", None))[("content", 0)])]
    )
    history = [
        *ask(),
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": f"Contact found: {EMAIL}, phone {PHONE}, prefers mornings.",
                }
            ],
        },
    ]
    second = client.messages.create(
        model="smollm2", max_tokens=24, thinking=THINKING, tools=[TOOL], messages=history
    )
    assert any(b.type == "text" for b in second.content)  # the stand-in accepted the signature
    # App → upstream: the thinking block arrived with exactly the bytes the SDK sent.
    assert block_text(standin.received[-1].body, 1, 0) == block_text(sent.bodies[-1], 1, 0)
    upstream_saw_no_private_value(standin, since)
    tool_input = json.loads(standin.received[-1].body)["messages"][1]["content"][1]["input"]
    assert EMAIL not in json.dumps(tool_input)


def test_changed_thinking_block_is_rejected_by_the_upstream(
    client: anthropic.Anthropic, standin: MessagesUpstream
) -> None:
    """The stand-in really verifies signatures: a changed block gets Anthropic's 400 back."""
    history = [
        *ask(),
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "edited", "signature": standin.sign("original")},
                {"type": "text", "text": "Sure."},
            ],
        },
        {"role": "user", "content": "Go on."},
    ]
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model="smollm2", max_tokens=8, thinking=THINKING, messages=history)
    assert "Invalid `signature`" in caught.value.message


def test_streamed_thinking_and_tool_input(
    client: anthropic.Anthropic, standin: MessagesUpstream
) -> None:
    since = len(standin.received)
    with client.messages.stream(
        model="smollm2",
        max_tokens=2048,
        thinking=THINKING,
        tools=[TOOL],
        tool_choice={"type": "tool", "name": "lookup_contact"},
        messages=ask(),
    ) as stream:
        final = stream.get_final_message()
    thinking, call = final.content
    assert thinking.signature == standin.sign(thinking.thinking)  # relayed unchanged
    assert isinstance(call.input, dict) and "email" in call.input
    upstream_saw_no_private_value(standin, since)


def test_count_tokens_gets_the_sanitized_body(
    client: anthropic.Anthropic, standin: MessagesUpstream
) -> None:
    since = len(standin.received)
    raw = client.messages.with_raw_response.count_tokens(model="smollm2", messages=ask())
    assert raw.parse().input_tokens > 0
    assert raw.headers["x-cogate-audit-id"]  # recorded in the ledger like any egress
    assert standin.received[-1].path == "/v1/messages/count_tokens"
    upstream_saw_no_private_value(standin, since)


def test_headers_pass_through(
    client: anthropic.Anthropic, standin: MessagesUpstream, sent: Sent
) -> None:
    client.beta.messages.create(
        model="smollm2",
        max_tokens=8,
        messages=[{"role": "user", "content": "Say hi."}],
        betas=["interleaved-thinking-2025-05-14"],
        extra_query={"beta": "true"},  # as Claude Code sends it
    )
    record = standin.received[-1]
    assert record.path == sent.paths[-1] == "/v1/messages?beta=true"  # query string kept
    assert record.headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert record.headers["anthropic-version"] == sent.headers["anthropic-version"]
    # The app's credential arrives as the SDK sent it (x-api-key or Authorization).
    for name in ("x-api-key", "authorization"):
        assert record.headers.get(name) == sent.headers.get(name)
    assert "sk-ant-test-key" in (sent.headers.get("x-api-key") or sent.headers["authorization"])


def test_upstream_error_passes_through(
    client: anthropic.Anthropic, standin: MessagesUpstream
) -> None:
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(model="error-429", max_tokens=8, messages=ask())
    error = caught.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "7"
    assert error.body == json.loads(standin.sent[-1])


def test_upstream_error_message_is_restored(
    client: anthropic.Anthropic, standin: MessagesUpstream
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model="echo-error", max_tokens=8, messages=ask())
    assert EMAIL in caught.value.message  # the app sees its own value again
    assert EMAIL.encode() not in standin.sent[-1]  # the upstream never had it
    assert caught.value.body["error"]["type"] == "invalid_request_error"


def test_batches_are_refused(client: anthropic.Anthropic, standin: MessagesUpstream) -> None:
    since = len(standin.received)
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.batches.create(
            requests=[
                {"custom_id": "a", "params": {"model": "m", "max_tokens": 8, "messages": ask()}}
            ]
        )
    assert "batches" in caught.value.message
    assert len(standin.received) == since


@pytest.fixture(scope="module")
def local_gateway(
    standin: MessagesUpstream, llama_upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    work = tmp_path_factory.mktemp("messages-local")
    policy = work / "local.yaml"
    policy.write_text("mode: local\n")
    args = ["--anthropic-upstream", standin.url, "--policy", str(policy)]
    env = {"COGATE_LOCAL_THREADS": "1"}
    with cogate_server(work, llama_upstream, args=args, env=env) as url:
        yield url.removesuffix("/v1")


def test_local_mode_answers_in_messages_shape(
    local_gateway: str, standin: MessagesUpstream
) -> None:
    client = anthropic.Anthropic(base_url=local_gateway, api_key="sk-ant-x", max_retries=0)
    since = len(standin.received)
    raw = client.messages.with_raw_response.create(model="any", max_tokens=12, messages=ask())
    assert raw.headers["x-cogate-mode"] == "local"
    message = raw.parse()
    assert message.content[0].text.strip() and message.usage.output_tokens > 0
    with client.messages.stream(model="any", max_tokens=12, messages=ask()) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == final.content[0].text and len(pieces) > 1
    assert client.messages.count_tokens(model="any", messages=ask()).input_tokens > 0
    assert len(standin.received) == since  # nothing left the device
