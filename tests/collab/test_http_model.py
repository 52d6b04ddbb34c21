"""The user's runtime over HTTP (collab/http_model.py): the queue bound, a runtime that is
down, one that stops mid-stream, and a client that goes away (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from cogate.collab.endpoint import resolve_endpoint
from cogate.collab.http_model import HttpModel
from cogate.collab.runtime import LocalModelUnavailable, Sampling
from cogate.core.errors import Overloaded
from cogate.core.settings import Settings

URL = "http://127.0.0.1:11434/v1"


def chunk(text: str, finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
    return b"data: " + json.dumps({"choices": [choice]}).encode() + b"\n\n"


def model_with(handler, queue: int = 8) -> HttpModel:
    settings = Settings(local_url=URL, local_queue=queue)
    model = HttpModel(resolve_endpoint(URL, resolver=lambda h, p: ["127.0.0.1"]), settings)
    model._shared.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return model


def probe_answers(request: httpx.Request) -> httpx.Response | None:
    path = request.url.path
    if path.endswith("/models"):
        return httpx.Response(200, json={"data": [{"id": "llama3.2"}]})
    if path.endswith("/completions") and not path.endswith("chat/completions"):
        return httpx.Response(404)
    return None


def test_probe_finds_the_model_and_what_it_lacks() -> None:
    async def run() -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            answer = probe_answers(request)
            if answer is not None:
                return answer
            return httpx.Response(200, json={"choices": [{"message": {"content": "OK"}}]})

        model = model_with(handler)
        await model.ready()
        assert model.name == "llama3.2"
        assert model.capabilities is not None and model.capabilities.chat
        assert "no legacy /completions" in model.capabilities.logits_reason

    asyncio.run(run())


def test_a_runtime_that_is_down_is_a_503_naming_its_url() -> None:
    async def run() -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        with pytest.raises(LocalModelUnavailable) as down:
            await model_with(handler).ready()
        assert down.value.status == 503 and URL in down.value.message

    asyncio.run(run())


def test_the_queue_is_bounded() -> None:
    model = model_with(lambda r: httpx.Response(500), queue=1)
    prompt = model.chat_prompt([{"role": "user", "content": "hi"}])
    first = model.generate(prompt, Sampling(max_tokens=4))
    with pytest.raises(Overloaded):
        model.generate(prompt, Sampling(max_tokens=4))
    asyncio.run(first.aclose())
    model.generate(prompt, Sampling(max_tokens=4))  # the slot came back


def test_a_stream_that_stops_mid_answer_raises_instead_of_ending() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield chunk("Once")
        raise httpx.ReadError("connection reset")

    async def run() -> None:
        model = model_with(lambda r: probe_answers(r) or httpx.Response(200, content=body()))
        gen = model.generate(model.chat_prompt([{"role": "user", "content": "hi"}]), Sampling())
        pieces = []
        with pytest.raises(LocalModelUnavailable, match="stopped mid-answer"):
            async for piece in gen:
                pieces.append(piece)
        assert pieces == ["Once"] and model.in_use == 0

    asyncio.run(run())


class Endless(httpx.AsyncByteStream):
    """An answer that never ends; `closed` once the client closes it (the connection)."""

    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self.closed:
            yield chunk("word ")
            await asyncio.sleep(0)

    async def aclose(self) -> None:
        self.closed = True  # the runtime sees its client hang up and stops generating


def test_closing_a_generation_closes_the_runtime_stream() -> None:
    stream = Endless()

    async def run() -> None:
        model = model_with(lambda r: httpx.Response(200, stream=stream))
        gen = model.generate(model.chat_prompt([{"role": "user", "content": "hi"}]), Sampling())
        assert await gen.__anext__() == "word "
        await gen.aclose()  # what the surface's streamer does when the client went away
        assert stream.closed and model.in_use == 0

    asyncio.run(run())
