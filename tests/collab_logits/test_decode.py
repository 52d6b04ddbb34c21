"""The decoding loop on a toy local model and a scripted cloud: when it asks, what it fuses."""

from __future__ import annotations

import math

import anyio
import numpy as np
import pytest
from cogate.collab.logits.align import CloudStep, Draft
from cogate.collab.logits.decode import LogitsOptions, Sampler, Stats, decode
from cogate.collab.logits.fusion import FixedGate

VOCAB: list[bytes | None] = [
    None,
    b" Spanish",
    b" Span",
    b"ish",
    b" French",
    b" lessons",
    b".",
    b" I",
    b" love",
    b" Fr",
]
ID = {piece: i for i, piece in enumerate(VOCAB)}

# Next-token distributions of the toy local model, keyed by the last token.
TABLE: dict[bytes | None, dict[bytes | None, float]] = {
    b"<start>": {b" I": 0.97},
    b" I": {b" love": 0.97},
    b" love": {b" French": 0.5, b" Span": 0.45},
    b" Span": {b"ish": 0.97},
    b"ish": {b" lessons": 0.97},
    b" Spanish": {b" lessons": 0.97},
    b" French": {b" lessons": 0.97},
    b" lessons": {b".": 0.97},
    b".": {None: 0.97},
}


class ToyStepper:
    def __init__(self) -> None:
        self.fed: list[int] = []

    def _logits(self, last: bytes | None) -> np.ndarray:
        probs = np.full(len(VOCAB), 1e-4)
        for piece, p in TABLE[last].items():
            probs[ID[piece]] = p
        return np.log(probs / probs.sum())

    def start(self, prompt: list[int]) -> np.ndarray:
        return self._logits(b"<start>")

    def step(self, token: int) -> np.ndarray:
        self.fed.append(token)
        return self._logits(VOCAB[token])

    def piece(self, token: int) -> bytes | None:
        return VOCAB[token]

    def first_token(self, text: bytes) -> int | None:
        # A greedy longest-match tokenizer over the toy vocabulary.
        best = [i for i, p in enumerate(VOCAB) if p and text.startswith(p)]
        return max(best, key=lambda i: len(VOCAB[i])) if best else None


class ScriptedCloud:
    """Drafts " Spanish lessons." after any prefix; records what it was shown."""

    def __init__(self, fail: bool = False) -> None:
        self.prefixes: list[str] = []
        self.fail = fail

    async def __call__(self, prefix: str, n: int) -> Draft | None:
        self.prefixes.append(prefix)
        if self.fail:
            return None
        return Draft(
            [
                CloudStep(b" Spanish", {b" Spanish": math.log(0.9), b" French": math.log(0.05)}),
                CloudStep(b" lessons", {b" lessons": math.log(0.9)}),
                CloudStep(b".", {b".": math.log(0.9)}),
            ],
            stopped=True,
        )


def run(drafter, options: LogitsOptions | None = None, max_tokens: int = 20) -> tuple[str, Stats]:
    stats = Stats()

    async def main() -> str:
        pieces = decode(
            ToyStepper(),
            [1, 2, 3],
            drafter,
            FixedGate(0.5),
            options or LogitsOptions(pool=8, repeat_penalty=1.0),
            max_tokens,
            Sampler(),
            stats,
        )
        return "".join([p async for p in pieces])

    return anyio.run(main), stats


def test_local_only_decoding_follows_the_local_model():
    text, stats = run(None)
    assert text == " I love French lessons."
    assert stats.calls == 0 and stats.finish_reason == "stop"
    assert stats.tokens == 5


def test_the_cloud_is_asked_once_where_the_local_model_is_unsure_and_its_draft_carries_on():
    cloud = ScriptedCloud()
    text, stats = run(cloud)
    # The cloud's whole word " Spanish" lifts the local split " Span"+"ish" over " French".
    assert text == " I love Spanish lessons."
    assert cloud.prefixes == [" I love"]
    assert stats.calls == 1
    assert stats.accepted == 5  # " Span", "ish", " lessons", "." and the end
    assert stats.rejected_drafts == 0


def test_confident_steps_never_call():
    cloud = ScriptedCloud()
    run(
        cloud, LogitsOptions(pool=8, repeat_penalty=1.0, entropy_threshold=9.0, margin_threshold=-1)
    )
    assert cloud.prefixes == []


def test_the_call_budget_holds_even_when_every_step_is_unsure():
    cloud = ScriptedCloud(fail=True)
    options = LogitsOptions(
        pool=8, repeat_penalty=1.0, entropy_threshold=0.0, max_failures=99, min_gap=2, max_calls=3
    )
    text, stats = run(cloud, options)
    assert text == " I love French lessons."  # failed calls change nothing
    assert stats.calls == len(cloud.prefixes) <= 3
    assert stats.failed_calls == stats.calls
    positions = [len(p) for p in cloud.prefixes]
    assert positions == sorted(positions)


def test_cloud_failures_stop_further_calls():
    cloud = ScriptedCloud(fail=True)
    options = LogitsOptions(
        pool=8, repeat_penalty=1.0, entropy_threshold=0.0, min_gap=1, max_failures=2
    )
    _, stats = run(cloud, options)
    assert stats.calls == 2


def test_max_tokens_ends_with_length():
    text, stats = run(None, max_tokens=2)
    assert text == " I love"
    assert stats.finish_reason == "length"


@pytest.mark.parametrize("seed", [1, 2])
def test_sampling_is_reproducible_with_a_seed(seed):
    probs = np.log(np.array([0.3, 0.3, 0.4]))
    first = [Sampler(1.0, seed).choose(probs) for _ in range(1)]
    again = [Sampler(1.0, seed).choose(probs) for _ in range(1)]
    assert first == again
