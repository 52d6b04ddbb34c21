"""Answers written on the device reach the app through the request's surface: the chat
shapes, restored placeholders and the usage note, without a local model (a scripted Answer)."""

from __future__ import annotations

import json

import pytest
from cogate.collab.replies import LocalAnswer, render, sampling_from_body
from cogate.core.errors import BadRequest, GatewayError
from cogate.policies.restore import VaultRestorer as Restorer
from cogate.policies.vault.memory import Vault
from cogate.proxy.surfaces import exchange_for

from .doubles import policy

pytestmark = pytest.mark.anyio


class Scripted:
    """An `Answer` that yields the given pieces (or raises after them)."""

    def __init__(self, pieces: list[str], error: GatewayError | None = None) -> None:
        self.pieces, self.error = pieces, error
        self.finish_reason: str | None = None
        self.prompt_tokens = 11
        self.completion_tokens = 0
        self.closed = False

    async def __aiter__(self):
        for piece in self.pieces:
            self.completion_tokens += 1
            yield piece
        if self.error is not None:
            raise self.error
        self.finish_reason = "length"

    async def aclose(self) -> None:
        self.closed = True


def chat_exchange(**body):
    ex = exchange_for("chat/completions", {"model": "m", "messages": [], **body}, app="t")
    ex.policy = policy()
    return ex


async def read(reply) -> bytes:
    return reply.body if reply.stream is None else b"".join([c async for c in reply.stream])


def events(raw: bytes) -> list:
    blocks = [b[6:] for b in raw.decode().split("\n\n") if b.startswith("data: ")]
    return [b if b == "[DONE]" else json.loads(b) for b in blocks]


async def test_whole_chat_completion_with_usage_noted() -> None:
    ex = chat_exchange()
    answer = Scripted(["Hel", "lo"])
    reply = await render(ex, answer, "local-model")
    body = json.loads(reply.body)
    assert body["object"] == "chat.completion" and body["model"] == "local-model"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hello"}
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
    assert ex.usage == body["usage"] and answer.closed


@pytest.mark.parametrize("include", [True, False])
async def test_chunk_stream_ends_with_done_and_usage_when_asked(include: bool) -> None:
    ex = chat_exchange(stream=True, stream_options={"include_usage": include})
    reply = await render(ex, Scripted(["a", "b"]), "local-model")
    assert reply.media_type == "text/event-stream"
    got = events(await read(reply))
    assert got[-1] == "[DONE]"
    assert got[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [e["choices"][0]["delta"].get("content") for e in got[1:3]]
    assert deltas == ["a", "b"]
    finish = got[3]["choices"][0]
    assert finish["finish_reason"] == "length" and finish["delta"] == {}
    usage_events = [e for e in got[:-1] if "usage" in e]
    assert len(usage_events) == int(include)
    if include:
        assert usage_events[0]["choices"] == []
        assert usage_events[0]["usage"]["total_tokens"] == 13
    assert ex.usage["completion_tokens"] == 2


async def test_an_error_mid_stream_is_an_error_event() -> None:
    ex = chat_exchange(stream=True)
    broken = GatewayError("the local model failed")
    answer = Scripted(["a"], error=broken)
    got = events(await read(await render(ex, answer, "local-model")))
    assert got[-1] == "[DONE]" and "error" in got[-2] and answer.closed
    assert ex.usage is None


@pytest.mark.parametrize("stream", [True, False])
async def test_placeholders_split_across_pieces_are_restored(stream: bool) -> None:
    vault = Vault()
    token = vault.pseudonym("PERSON", "Ana Lima")
    ex = chat_exchange(stream=stream)
    ex.restorer = Restorer(vault)
    ex.findings.append(object())  # type: ignore[arg-type]  # something was replaced
    cut = len(token) // 2
    answer = Scripted(["Dear ", token[:cut], token[cut:], ", hi"])
    raw = await read(await render(ex, answer, "local-model"))
    if stream:
        text = "".join(
            e["choices"][0]["delta"].get("content", "")
            for e in events(raw)[:-1]
            if e.get("choices")
        )
    else:
        text = json.loads(raw)["choices"][0]["message"]["content"]
    assert text == "Dear Ana Lima, hi"


async def test_nothing_is_restored_when_nothing_was_replaced() -> None:
    ex = chat_exchange()
    answer = LocalAnswer(Scripted(["[PERSON_1]"]), ex, held=None)
    assert [p async for p in answer] == ["[PERSON_1]"]


@pytest.mark.parametrize(
    ("route", "body"),
    [("completions", {"prompt": "hi"}), ("embeddings", {"input": "hi"})],
)
async def test_other_surfaces_refuse_local_answers(route: str, body: dict) -> None:
    ex = exchange_for(route, {"model": "m", **body})
    with pytest.raises(BadRequest, match="/v1/chat/completions only"):
        ex.surface.turns(ex.op, ex.body)
    with pytest.raises(BadRequest, match="use redact mode"):
        await render(ex, Scripted(["x"]), "local-model")


@pytest.mark.parametrize(
    ("body", "max_tokens", "stop"),
    [
        ({"max_completion_tokens": 7, "max_tokens": 9}, 7, ()),
        ({"max_tokens": 9, "stop": "END"}, 9, ("END",)),
        ({"max_output_tokens": 5, "stop_sequences": ["a", "b"]}, 5, ("a", "b")),
        ({}, 512, ()),
    ],
)
def test_decoding_parameters(body: dict, max_tokens: int, stop: tuple) -> None:
    sampling = sampling_from_body(body)
    assert (sampling.max_tokens, sampling.stop) == (max_tokens, stop)


@pytest.mark.parametrize("body", [{"n": 2}, {"temperature": "hot"}])
def test_bad_decoding_parameters_are_refused(body: dict) -> None:
    with pytest.raises(BadRequest):
        sampling_from_body(body)
