"""What the local model's worker process costs: the same generations and scoring steps with
the weights in a supervised worker (`local_isolation: process`, the default) and inside the
gateway (`thread`), interleaved in one run.

Measured per isolation: a sketch-mode answer (a ~350-token prompt holding a private profile
and a cloud sketch, 64 greedy tokens: time to the first piece and in total), a logits-mode
pass (read the prompt, then 32 single-token steps, each returning the whole vocabulary's
logits), the worker's start (load included) and its restart after a crash.

    .venv/bin/python bench/local_worker.py --rounds 7

Both models live on one machine here, which a gateway never does (it has one): with
llama.cpp's OpenMP threads spin-waiting after each step, the idle model's threads take
cores from the busy one (without passive waiting, the worker's figures at 2 threads were
3-5x the in-process ones in either order, while each alone was as fast as the other). So
OpenMP waits passively here (set before llama.cpp loads; the worker inherits it), and the
comparison measures the isolation, not that contention.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import time
from typing import Any

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
from cogate.collab.runtime import LocalModel, Sampling
from cogate.core.settings import Settings

PROFILE = (
    "Name: Isabel Martinez. Lives in Miami. Works as a nurse at Mercy Hospital; training for "
    "a half marathon in March; allergic to penicillin; her sister Ana lives in Lyon. "
) * 4
SKETCH = (
    "Outline: greet the reader; say the weekend plan (a long run on Saturday, brunch with "
    "family on Sunday); mention training progress; close warmly."
)
MESSAGES = [
    {"role": "system", "content": f"Private notes about the user:\n{PROFILE}"},
    {"role": "user", "content": f"Write a short note to a friend about my weekend.\n{SKETCH}"},
]


async def generation(model: LocalModel, prompt: list[int], tokens: int) -> tuple[float, float]:
    start = time.perf_counter()
    first = 0.0
    gen = model.generate(prompt, Sampling(max_tokens=tokens, temperature=0.0))
    try:
        async for _ in gen:
            first = first or time.perf_counter() - start
    finally:
        await gen.aclose()
    return first * 1000, (time.perf_counter() - start) * 1000


async def scoring(model: LocalModel, prompt: list[int], steps: int) -> float:
    start = time.perf_counter()
    async with model.exclusive() as scorer:
        logits = await asyncio.to_thread(scorer.start, prompt)
        for _ in range(steps):
            logits = await asyncio.to_thread(scorer.step, int(np.argmax(logits)))
    return (time.perf_counter() - start) * 1000


async def worker_start(model: LocalModel, prompt: list[int]) -> tuple[float, float]:
    """Cold start of the worker, then its restart after a SIGKILL (both to a first token)."""
    assert model.worker is not None
    model.worker.close()
    start = time.perf_counter()
    await generation(model, prompt, 1)
    cold = (time.perf_counter() - start) * 1000
    os.kill(model.worker.pid or 0, signal.SIGKILL)
    await asyncio.sleep(0.1)
    start = time.perf_counter()
    await generation(model, prompt, 1)
    return cold, (time.perf_counter() - start) * 1000


def row(name: str, process: list[float], thread: list[float]) -> str:
    p, t = statistics.median(process), statistics.median(thread)
    spread = f"{min(process):.1f}–{max(process):.1f} / {min(thread):.1f}–{max(thread):.1f}"
    return f"| {name} | {p:.1f} ms | {t:.1f} ms | {p - t:+.1f} ms | {p / t:.3f} | {spread} |"


async def main(args: argparse.Namespace) -> None:
    common: dict[str, Any] = {"local_threads": args.threads, "local_context": 2048}
    models = {
        isolation: LocalModel(Settings(local_isolation=isolation, **common))
        for isolation in ("process", "thread")
    }
    for model in models.values():
        await model.ready()
    prompt = models["thread"].chat_prompt(MESSAGES)
    results: dict[str, dict[str, list[float]]] = {k: {} for k in models}
    for _ in range(args.rounds):
        for isolation, model in models.items():  # interleaved: both see the same load
            first, total = await generation(model, prompt, args.tokens)
            took = await scoring(model, prompt, args.steps)
            for key, value in (("first", first), ("total", total), ("scoring", took)):
                results[isolation].setdefault(key, []).append(value)
    starts = [await worker_start(models["process"], prompt) for _ in range(3)]
    load = os.getloadavg()[0]
    print(
        f"prompt {len(prompt)} tokens, {args.tokens} generated, {args.steps} scoring steps, "
        f"{args.rounds} rounds, {args.threads} thread(s), load average {load:.1f} at the end"
    )
    print("| measure | worker process | in the gateway | added | ratio | range (process / in) |")
    print("|---|---|---|---|---|---|")
    labels = {
        "first": "sketch answer: first piece",
        "total": f"sketch answer: {args.tokens} tokens",
        "scoring": f"logits pass: prompt + {args.steps} steps",
    }
    for key, label in labels.items():
        print(row(label, results["process"][key], results["thread"][key]))
    cold = statistics.median(s[0] for s in starts)
    again = statistics.median(s[1] for s in starts)
    print(
        f"worker start to first token: {cold:.0f} ms; restart after SIGKILL: {again:.0f} ms "
        "(median of 3)"
    )
    for model in models.values():
        await model.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
