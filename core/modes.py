"""The gateway's modes, ordered from the one that lets most leave to the one that lets nothing."""

from __future__ import annotations

from typing import Literal, get_args

Mode = Literal["passthrough", "redact", "logits", "sketch", "local", "block"]
MODES: tuple[str, ...] = get_args(Mode)
_RANK = {mode: rank for rank, mode in enumerate(MODES)}


def is_mode(name: str) -> bool:
    return name in _RANK


def stricter(policy_mode: str, requested: str | None) -> str:
    """The mode to run: the request may tighten its policy's mode, never loosen it."""
    if requested is None or _RANK[requested] <= _RANK[policy_mode]:
        return policy_mode
    return requested
