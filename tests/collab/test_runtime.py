"""The local model runtime on the embedded SmolLM2: template, streaming, usage, queue, stop."""

from __future__ import annotations

import asyncio

import pytest
from cogate.collab.runtime import LocalModel, Sampling
from cogate.collab.worker import StopMatcher
from cogate.core.errors import BadRequest, Overloaded

pytestmark = pytest.mark.anyio

HELLO = [{"role": "user", "content": "Say hello."}]


def test_chat_template_comes_from_the_gguf(local_model: LocalModel) -> None:
    template = local_model.load().metadata["tokenizer.chat_template"]
    assert "im_start" in template  # SmolLM2's own ChatML-style template
    text = local_model.detokenize(local_model.chat_prompt(HELLO), special=True)
    assert text.endswith("<|im_start|>assistant\n")
    # the GGUF template's own default system prompt: not a built-in ChatML format
    assert "named SmolLM" in text
    assert "<|im_start|>user\nSay hello.<|im_end|>" in text


def test_tokenize_round_trip(local_model: LocalModel) -> None:
    tokens = local_model.tokenize("Private context stays local.")
    assert tokens and local_model.detokenize(tokens) == "Private context stays local."


async def test_stream_counts_usage_honestly(local_model: LocalModel) -> None:
    prompt = local_model.chat_prompt(HELLO)
    gen = local_model.generate(prompt, Sampling(max_tokens=8, temperature=0.0))
    pieces = [piece async for piece in gen]
    assert "".join(pieces).strip()
    assert gen.prompt_tokens == len(prompt)
    assert 0 < gen.completion_tokens <= 8
    assert gen.finish_reason in ("stop", "length")
    assert local_model.in_use == 0


async def test_max_tokens_ends_with_length(local_model: LocalModel) -> None:
    prompt = local_model.chat_prompt(
        [{"role": "user", "content": "Write a long story about a ship."}]
    )
    reply = await local_model.complete(prompt, Sampling(max_tokens=3, temperature=0.0))
    assert reply.finish_reason == "length" and reply.completion_tokens == 3


async def test_greedy_is_repeatable(local_model: LocalModel) -> None:
    prompt = local_model.chat_prompt(HELLO)
    first = await local_model.complete(prompt, Sampling(max_tokens=6, temperature=0.0))
    second = await local_model.complete(prompt, Sampling(max_tokens=6, temperature=0.0))
    assert first.text == second.text


async def test_full_queue_refuses_at_once(local_model: LocalModel) -> None:
    prompt = local_model.chat_prompt(HELLO)
    async with local_model.exclusive() as scorer:  # one of the two slots
        assert scorer.vocab is local_model.load()
        waiting = local_model.generate(prompt, Sampling(max_tokens=2))  # the second slot
        with pytest.raises(Overloaded) as refused:
            local_model.generate(prompt, Sampling(max_tokens=2))
        assert refused.value.status == 503 and "busy" in refused.value.message
        await waiting.aclose()
    assert local_model.in_use == 0


async def test_closing_the_stream_stops_generation(local_model: LocalModel) -> None:
    prompt = local_model.chat_prompt([{"role": "user", "content": "Count to one thousand."}])
    gen = local_model.generate(prompt, Sampling(max_tokens=400, temperature=0.0))
    async for _ in gen:
        break
    await gen.aclose()
    for _ in range(200):  # the worker thread leaves within a token; no wall-clock bound here
        if local_model.in_use == 0:
            break
        await asyncio.sleep(0.05)
    assert local_model.in_use == 0
    assert gen.completion_tokens < 400
    # the model is free again
    reply = await local_model.complete(prompt, Sampling(max_tokens=2, temperature=0.0))
    assert reply.completion_tokens == 2


async def test_cancelled_consumer_stops_generation(local_model: LocalModel) -> None:
    prompt = local_model.chat_prompt([{"role": "user", "content": "Count to one thousand."}])
    gen = local_model.generate(prompt, Sampling(max_tokens=400, temperature=0.0))
    seen = asyncio.Event()

    async def consume() -> None:
        async for _ in gen:
            seen.set()

    task = asyncio.create_task(consume())
    await seen.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(200):
        if local_model.in_use == 0:
            break
        await asyncio.sleep(0.05)
    assert local_model.in_use == 0 and gen.completion_tokens < 400


async def test_prompt_longer_than_context_is_refused(local_model: LocalModel) -> None:
    with pytest.raises(BadRequest, match="context"):
        local_model.generate([1] * local_model.context, Sampling(max_tokens=2))
    assert local_model.in_use == 0


async def test_stop_strings(local_model: LocalModel) -> None:
    prompt = local_model.chat_prompt([{"role": "user", "content": "List: one, two, three, four."}])
    plain = await local_model.complete(prompt, Sampling(max_tokens=12, temperature=0.0))
    word = plain.text.strip().split()[1] if len(plain.text.split()) > 1 else plain.text.strip()[:2]
    cut = await local_model.complete(prompt, Sampling(max_tokens=12, temperature=0.0, stop=(word,)))
    assert word not in cut.text and plain.text.startswith(cut.text)
    assert cut.finish_reason == "stop"


@pytest.mark.parametrize(
    ("stops", "feeds", "out", "hit"),
    [
        (["END"], ["ab", "cE", "N", "Dxx"], "abc", True),
        (["END"], ["ab", "cE", "Nd"], "abcENd", False),
        ([], ["a", "b"], "ab", False),
        (["\n\n"], ["line\n", "\nnext"], "line", True),
    ],
)
def test_stop_matcher(stops: list[str], feeds: list[str], out: str, hit: bool) -> None:
    matcher, text, stopped = StopMatcher(stops), "", False
    for feed in feeds:
        piece, stopped = matcher.feed(feed)
        text += piece
        if stopped:
            break
    if not stopped:
        text += matcher.flush()
    assert (text, stopped) == (out, hit)


def test_missing_model_file_names_the_fix(tmp_path) -> None:
    from cogate.collab.runtime import LocalModelUnavailable
    from cogate.core.settings import Settings

    model = LocalModel(Settings(local_model=tmp_path / "none.gguf"))
    with pytest.raises(LocalModelUnavailable, match="COGATE_LOCAL_MODEL"):
        model.load()
