"""The logits-mode decoding loop: the local model leads, the cloud drafts where it helps.

At every step the local model (which holds the private context) proposes a pool of
candidates. When it is unsure, at a word boundary, and the call budget allows, the cloud is
asked to continue the sanitized prefix for a few tokens with top-k logprobs each. While the
answer keeps agreeing with that draft, every step fuses the local distribution with the
cloud's (aligned through bytes) at no further cost; the first disagreement drops the rest
of the draft (the local model's own text is never undone).
"""

from __future__ import annotations

import codecs
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import anyio
import numpy as np
from cogate.collab.runtime_api import Prompt
from scipy.special import log_softmax, softmax

from .align import Draft, view_at
from .fusion import Candidates, Gate, fuse


@dataclass(frozen=True)
class LogitsOptions:
    """How often and how much the cloud is consulted; the defaults meet ≤0.15 calls/token."""

    pool: int = 24  # local candidates considered per step
    draft_tokens: int = 6  # tokens the cloud drafts per call
    min_gap: int = 12  # after the first call, at most one call per this many tokens
    max_calls: int = 12  # per answer
    entropy_threshold: float = 1.5  # nats over the pool: above it the local model is unsure
    margin_threshold: float = 0.15  # top-1 minus top-2 probability: below it, unsure
    repeat_penalty: float = 1.1
    repeat_window: int = 64
    fixed_weight: float = 0.35  # the cloud's share when no trained gate is installed
    max_failures: int = 2  # cloud errors after which the answer goes on locally


class Stepper(Protocol):
    """The local model as the decoder sees it (blocking calls, run in a worker thread)."""

    def start(self, prompt: Prompt) -> np.ndarray: ...
    def step(self, token: int) -> np.ndarray: ...
    def piece(self, token: int) -> bytes | None: ...  # None: end of generation
    def first_token(self, text: bytes) -> int | None: ...


Drafter = Callable[[str, int], Awaitable[Draft | None]]


@dataclass
class Stats:
    tokens: int = 0
    calls: int = 0
    failed_calls: int = 0
    fused: int = 0  # tokens chosen with a cloud draft in view
    accepted: int = 0  # of those, tokens that agreed with the draft
    rejected_drafts: int = 0
    weights: list[float] = field(default_factory=list)
    finish_reason: str = "length"

    def summary(self) -> dict[str, float | int | str]:
        return {
            "tokens": self.tokens,
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "fused": self.fused,
            "accepted": self.accepted,
            "rejected_drafts": self.rejected_drafts,
            "mean_weight": round(sum(self.weights) / len(self.weights), 3) if self.weights else 0.0,
            "finish_reason": self.finish_reason,
        }


@dataclass
class Sampler:
    temperature: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def choose(self, logprobs: np.ndarray) -> int:
        if self.temperature <= 1e-5:
            return int(np.argmax(logprobs))
        probs = softmax(logprobs / self.temperature)
        return int(self._rng.choice(len(probs), p=probs))


async def decode(
    stepper: Stepper,
    prompt: Prompt,
    drafter: Drafter | None,
    gate: Gate,
    options: LogitsOptions,
    max_tokens: int,
    sampler: Sampler,
    stats: Stats,
) -> AsyncIterator[str]:
    """Yield text as it is decided. With `drafter=None` this is plain local decoding."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    logits = await anyio.to_thread.run_sync(stepper.start, prompt)
    generated = b""
    recent: list[int] = []
    draft: Draft | None = None
    last_call: int | None = None
    while stats.tokens < max_tokens:
        logprobs = _local_logprobs(logits, recent, options)
        ids, pieces = _pool(stepper, logprobs, options.pool)
        if (
            draft is None
            and drafter is not None
            and _may_call(stats, last_call, options)
            and _unsure(logprobs[ids], options)
            and _at_word_boundary(pieces, logprobs[ids], generated)
        ):
            last_call = stats.tokens
            stats.calls += 1
            draft = await drafter(_visible(generated), options.draft_tokens)
            if draft is None:
                stats.failed_calls += 1
        view = view_at(draft)
        if view is None:
            draft = None
        else:
            _extend_pool(stepper, ids, pieces, view)
        cands = Candidates(ids, pieces, _ranked(logprobs, ids))
        fused = fuse(cands, view, gate, stats.tokens)
        index = sampler.choose(fused.logprobs)
        token, piece = ids[index], pieces[index]
        if view is not None:
            stats.fused += 1
            stats.weights.append(fused.weight)
            assert draft is not None
            if draft.agrees(piece):
                stats.accepted += 1
                if draft.exhausted:
                    draft = None
            else:
                stats.rejected_drafts += 1
                draft = None
        if piece is None:
            stats.finish_reason = "stop"
            break
        stats.tokens += 1
        generated += piece
        recent = (recent + [token])[-options.repeat_window :]
        text = decoder.decode(piece)
        if text:
            yield text
        if stats.tokens >= max_tokens:
            break
        logits = await anyio.to_thread.run_sync(stepper.step, token)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _local_logprobs(logits: np.ndarray, recent: list[int], options: LogitsOptions) -> np.ndarray:
    logits = np.array(logits, dtype=np.float64)
    if recent and options.repeat_penalty != 1.0:
        seen = np.unique(np.asarray(recent))
        vals = logits[seen]
        logits[seen] = np.where(
            vals > 0, vals / options.repeat_penalty, vals * options.repeat_penalty
        )
    return log_softmax(logits)


# Below this a stepper gives a token no probability at all: a runtime over HTTP reports
# only its top-k (collab/logits/remote.py); the embedded model ranks every token above it.
NOT_RANKED = -1.0e3
FLOOR_SHARE = math.log(2.0)


def _ranked(logprobs: np.ndarray, ids: list[int]) -> np.ndarray:
    """The local log-probabilities of the candidates; one the local side did not rank (a
    cloud option outside a runtime's top-k) gets half the least likely ranked one, so the
    pool is the union of both sides' top-k."""
    size = len(logprobs)
    known = [float(logprobs[i]) for i in ids if i < size and logprobs[i] > NOT_RANKED]
    floor = (min(known) if known else 0.0) - FLOOR_SHARE
    return np.array(
        [float(logprobs[i]) if i < size and logprobs[i] > NOT_RANKED else floor for i in ids],
        dtype=np.float64,
    )


def _pool(
    stepper: Stepper, logprobs: np.ndarray, size: int
) -> tuple[list[int], list[bytes | None]]:
    size = min(size, len(logprobs))
    best = np.argpartition(-logprobs, size - 1)[:size]
    best = best[np.argsort(-logprobs[best])]
    ids: list[int] = []
    pieces: list[bytes | None] = []
    for token in best.tolist():
        if logprobs[token] <= NOT_RANKED:
            break  # sorted: the rest are not ranked either
        piece = stepper.piece(token)
        if piece == b"":
            continue  # a control token that writes nothing
        ids.append(token)
        pieces.append(piece)
    return ids, pieces


def _extend_pool(stepper: Stepper, ids: list[int], pieces: list[bytes | None], view) -> None:
    """Add the local token that would start each cloud option, so the cloud can be heard
    even where the local model ranks its choice low."""
    for rest in view.options:
        token = stepper.first_token(rest)
        if token is not None and token not in ids:
            piece = stepper.piece(token)
            if piece:
                ids.append(token)
                pieces.append(piece)


def _may_call(stats: Stats, last_call: int | None, options: LogitsOptions) -> bool:
    if stats.calls >= options.max_calls or stats.failed_calls >= options.max_failures:
        return False
    return last_call is None or stats.tokens - last_call >= options.min_gap


def _unsure(pool_logprobs: np.ndarray, options: LogitsOptions) -> bool:
    probs = softmax(pool_logprobs)
    entropy = float(-(probs * np.log(np.maximum(probs, 1e-30))).sum())
    top = np.sort(probs)[::-1]
    margin = float(top[0] - (top[1] if len(top) > 1 else 0.0))
    return entropy >= options.entropy_threshold or margin <= options.margin_threshold


def _at_word_boundary(
    pieces: list[bytes | None], pool_logprobs: np.ndarray, generated: bytes
) -> bool:
    """True when the local model expects a new word next, so the prefix ends in a whole word
    (a half-written name could slip past every detector)."""
    if not generated:
        return True
    if generated[-1:] in _BREAKS:
        return True
    top = int(np.argmax(pool_logprobs))
    piece = pieces[top]
    return piece is None or piece[:1] in _BREAKS


_BREAKS = frozenset(bytes([c]) for c in b' \t\n\r.,;:!?)]}"')


def _visible(generated: bytes) -> str:
    """The generated text, without a trailing incomplete UTF-8 sequence."""
    return generated.decode("utf-8", errors="ignore")
