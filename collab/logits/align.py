"""Align a cloud draft with local candidate tokens through bytes, whatever the tokenizers.

The cloud returns, per drafted token, the token it emitted and its top-k alternatives as
text. The local model proposes candidates from its own vocabulary. Both are compared as
bytes at the byte offset the answer has reached: a local candidate and a cloud token are
compatible when one is a prefix of the other, so a cloud token " Spanish" vouches for the
local pieces " Span" and " S", and a local " Spanish" for the cloud's " Span".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# Probability given to a local candidate that no returned cloud token vouches for, relative
# to the least likely token the cloud did return (it was not in the top-k, so it is rarer).
FLOOR_SHARE = 0.5
MIN_FLOOR = 1e-6


@dataclass
class CloudStep:
    """One drafted cloud token: what it emitted and the alternatives it reported."""

    token: bytes
    top: dict[bytes, float] = field(default_factory=dict)  # token bytes -> logprob
    logprob: float | None = None  # of `token`, when reported


@dataclass
class Draft:
    """A chunk of text the cloud drafted after the prefix it was shown.

    `consumed` counts the draft's bytes the answer has already taken; the draft is only
    valid while the answer keeps agreeing with it. `stopped` says the cloud ended its
    answer at the end of the draft (rather than running out of tokens).
    """

    steps: list[CloudStep]
    stopped: bool = False
    consumed: int = 0
    starts: list[int] = field(default_factory=list, init=False)
    text: bytes = field(default=b"", init=False)

    def __post_init__(self) -> None:
        offset = 0
        for step in self.steps:
            self.starts.append(offset)
            offset += len(step.token)
        self.text = b"".join(step.token for step in self.steps)

    @property
    def exhausted(self) -> bool:
        return self.consumed >= len(self.text) and not self.stopped

    def agrees(self, piece: bytes | None) -> bool:
        """Take the chosen token (None: the end of the answer); False on disagreement."""
        if piece is None:
            return self.stopped and self.consumed >= len(self.text)
        return self.advance(piece)

    def advance(self, piece: bytes) -> bool:
        """Take `piece` (the bytes of the token the answer chose); False on disagreement.

        A piece that runs past the end of the draft agrees when the draft is a prefix of it;
        the draft is then used up.
        """
        rest = self.text[self.consumed :]
        if not piece:
            return True
        if piece.startswith(rest) and len(piece) > len(rest):
            if self.stopped:
                return False  # the cloud ended here; more text disagrees with it
            self.consumed = len(self.text)
            return True
        if rest.startswith(piece):
            self.consumed += len(piece)
            return True
        return False


@dataclass
class CloudView:
    """The cloud's next-token distribution at the current offset, as byte strings."""

    options: dict[bytes, float]  # remaining bytes of a cloud token -> probability
    end: float = 0.0  # probability that the cloud stops here
    floor: float = MIN_FLOOR

    @property
    def empty(self) -> bool:
        return not self.options and self.end <= 0.0

    def top(self) -> bytes | None:
        return max(self.options, key=self.options.__getitem__) if self.options else None

    def entropy(self) -> float:
        probs = [p for p in self.options.values() if p > 0] + ([self.end] if self.end > 0 else [])
        total = sum(probs)
        if total <= 0:
            return 0.0
        return -sum(p / total * math.log(p / total) for p in probs)


def view_at(draft: Draft | None) -> CloudView | None:
    """What the draft says about the next bytes at its consumed offset; None when nothing."""
    if draft is None:
        return None
    offset = draft.consumed
    if offset >= len(draft.text):
        if draft.stopped:
            return CloudView(options={}, end=1.0, floor=MIN_FLOOR)
        return None
    index = _step_at(draft, offset)
    step = draft.steps[index]
    emitted = step.token[: offset - draft.starts[index]]
    reported = dict(step.top)
    if not reported and step.logprob is not None:
        reported = {step.token: step.logprob}
    if not reported:
        return None  # the cloud said nothing usable about this position
    options: dict[bytes, float] = {}
    for token, logprob in reported.items():
        if not token.startswith(emitted) or len(token) == len(emitted):
            continue
        rest = token[len(emitted) :]
        options[rest] = options.get(rest, 0.0) + math.exp(logprob)
    if not options:
        return None
    if emitted:
        # Mid-token: condition on the bytes already emitted; keep a little mass for what
        # the top-k did not show.
        total = sum(options.values())
        covered = min(1.0, total / max(_mass(reported), 1e-12))
        options = {rest: p / total * covered for rest, p in options.items()}
    return CloudView(options=options, floor=_floor(options))


def _mass(reported: dict[bytes, float]) -> float:
    return sum(math.exp(lp) for lp in reported.values())


def _floor(options: dict[bytes, float]) -> float:
    lowest = min(options.values())
    residual = max(0.0, 1.0 - sum(options.values()))
    floor = lowest * FLOOR_SHARE
    if residual > 0:
        floor = min(floor, residual)
    return max(floor, MIN_FLOOR)


def _step_at(draft: Draft, offset: int) -> int:
    """The drafted token covering byte `offset` (empty tokens cover nothing)."""
    for index, step in enumerate(draft.steps):
        if draft.starts[index] <= offset < draft.starts[index] + len(step.token):
            return index
    raise IndexError(f"offset {offset} is past the draft's {len(draft.text)} bytes")


def compatible(a: bytes, b: bytes) -> bool:
    return bool(a) and bool(b) and (a.startswith(b) or b.startswith(a))


def cloud_probs(view: CloudView, candidates: Sequence[bytes | None]) -> list[float]:
    """The cloud's probability for each local candidate (None marks an end-of-text token).

    A candidate collects the probability of every cloud option it is prefix-compatible
    with; one the cloud did not vouch for gets the floor.
    """
    out = []
    for cand in candidates:
        if cand is None:
            p = view.end
        else:
            p = sum(prob for rest, prob in view.options.items() if compatible(cand, rest))
        out.append(max(p, view.floor))
    return out


def coverage(view: CloudView, candidates: Sequence[bytes | None]) -> float:
    """Share of the cloud's reported mass that some local candidate can carry."""
    total = sum(view.options.values()) + view.end
    if total <= 0:
        return 0.0
    carried = sum(
        prob
        for rest, prob in view.options.items()
        if any(c is not None and compatible(c, rest) for c in candidates)
    )
    if view.end > 0 and any(c is None for c in candidates):
        carried += view.end
    return carried / total
