"""The local model's worker process: a llama.cpp crash fails one request, not the gateway."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import numpy as np
import pytest
from cogate.collab.runtime import LocalModel, Sampling
from cogate.collab.supervisor import WorkerFailed
from cogate.core.settings import Settings

pytestmark = pytest.mark.anyio

STORY = [{"role": "user", "content": "Tell a long story about a lighthouse keeper."}]


def ended(pid: int) -> bool:
    """The process has exited and waits to be reaped (a zombie)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(") ", 1)[1].startswith("Z")


@pytest.fixture
def model():
    """A model of its own: these tests kill its worker."""
    own = LocalModel(Settings(local_threads=1, local_context=1024, local_queue=2))
    yield own
    own._close(own._llama)


async def test_a_worker_killed_mid_generation_fails_that_request_only(model, caplog) -> None:
    prompt = model.chat_prompt(STORY)
    gen = model.generate(prompt, Sampling(max_tokens=200, temperature=0.0))
    first = await gen.__anext__()
    assert first
    pid = model.worker.pid
    os.kill(pid, signal.SIGILL)  # what a build using trapped instructions does
    with (
        caplog.at_level(logging.ERROR, logger="cogate.collab.worker"),
        pytest.raises(WorkerFailed) as failed,
    ):
        async for _ in gen:
            pass
    assert failed.value.status == 503 and "SIGILL" in failed.value.message
    logged = [r.getMessage() for r in caplog.records if r.name == "cogate.collab.worker"]
    assert any("SIGILL" in line and "keeps serving" in line for line in logged), logged
    assert model.in_use == 0
    status = model.status()["worker"]
    assert status["deaths"] == 1 and status["last_death"] == "SIGILL while generating"
    # The next request starts a new worker and is answered.
    again = await model.complete(prompt, Sampling(max_tokens=3, temperature=0.0))
    assert again.completion_tokens == 3
    assert model.worker.pid not in (None, pid) and model.status()["worker"]["starts"] == 2


async def test_a_worker_that_died_while_idle_is_replaced(model, caplog) -> None:
    await model.ready()
    pid = model.worker.pid
    os.kill(pid, signal.SIGKILL)  # the OOM killer's way
    await asyncio.sleep(0.2)
    with caplog.at_level(logging.ERROR, logger="cogate.collab.worker"):
        reply = await model.complete(model.chat_prompt(STORY), Sampling(max_tokens=2))
    assert reply.completion_tokens == 2
    assert any("SIGKILL while idle" in r.getMessage() for r in caplog.records)
    assert model.status()["worker"]["deaths"] == 1


async def test_a_worker_killed_while_scoring_fails_the_scorer(model) -> None:
    prompt = model.chat_prompt(STORY)
    async with model.exclusive() as scorer:
        logits = await asyncio.to_thread(scorer.start, prompt)
        os.kill(model.worker.pid, signal.SIGSEGV)
        with pytest.raises(WorkerFailed, match="SIGSEGV while scoring"):
            await asyncio.to_thread(scorer.step, int(np.argmax(logits)))
    async with model.exclusive() as scorer:  # and the next holder gets a new worker
        assert (await asyncio.to_thread(scorer.start, prompt)).shape == logits.shape


async def test_the_worker_scores_as_the_model_in_process_does(model) -> None:
    local = LocalModel(Settings(local_threads=1, local_context=1024, local_isolation="thread"))
    try:
        prompt = model.chat_prompt(STORY)
        assert local.chat_prompt(STORY) == prompt
        outputs = []
        for held in (model, local):
            async with held.exclusive() as scorer:
                first = await asyncio.to_thread(scorer.start, prompt)
                second = await asyncio.to_thread(scorer.step, int(np.argmax(first)))
                outputs.append((first, second))
        for ours, theirs in zip(outputs[0], outputs[1], strict=True):
            assert ours.dtype == np.float32 and ours.shape == theirs.shape
            assert np.allclose(ours, theirs, atol=1e-3)
        # And greedy generation gives the same text either way.
        greedy = Sampling(max_tokens=8, temperature=0.0)
        assert (await model.complete(prompt, greedy)).text == (
            await local.complete(prompt, greedy)
        ).text
    finally:
        local._close(local._llama)


async def test_closing_the_model_ends_its_worker(model) -> None:
    await model.ready()
    pid = model.worker.pid
    await model.aclose()
    assert model.worker.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_step_never_goes_to_a_worker_started_after_the_prompt_was_read(model) -> None:
    """A new worker has not read the prompt: its logits for one token would be nonsense."""
    prompt = model.chat_prompt(STORY)
    async with model.exclusive() as scorer:
        logits = await asyncio.to_thread(scorer.start, prompt)
        pid = model.worker.pid
        os.kill(pid, signal.SIGKILL)
        while not ended(pid):  # dead (not yet reaped) before the step is sent
            await asyncio.sleep(0.01)
        with pytest.raises(WorkerFailed, match="died with SIGKILL while scoring"):
            await asyncio.to_thread(scorer.step, int(np.argmax(logits)))
        assert model.worker.status()["starts"] == 1  # no worker was started for the step


async def test_a_worker_that_ignores_a_cancel_is_ended_and_frees_the_model(model, caplog) -> None:
    prompt = model.chat_prompt(STORY)
    gen = model.generate(prompt, Sampling(max_tokens=200, temperature=0.0))
    await gen.__anext__()
    model.worker.cancel_grace = 0.5
    pid = model.worker.pid
    os.kill(pid, signal.SIGSTOP)  # stuck: it reads no cancel and answers nothing
    with caplog.at_level(logging.WARNING, logger="cogate.collab.worker"):
        await gen.aclose()  # the client went away
        for _ in range(200):  # the slot comes back once the stuck worker is ended
            if model.in_use == 0:
                break
            await asyncio.sleep(0.05)
    assert model.in_use == 0
    assert any("did not stop" in r.getMessage() for r in caplog.records)
    assert model.status()["worker"]["last_death"] == "SIGKILL while generating"
    reply = await model.complete(prompt, Sampling(max_tokens=2))
    assert reply.completion_tokens == 2 and model.worker.pid != pid
