"""What the collaboration modes ask of a local model, whichever serves it: the embedded
llama.cpp model (`collab/runtime.py`) or the user's own runtime over HTTP
(`collab/http_model.py`).

A prompt is opaque to the modes: token ids for the embedded model, the chat messages for a
runtime that applies its own template. The modes only measure it (`len`) and hand it back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cogate.core.egress import Egress
from cogate.core.exchange import Exchange


@dataclass(frozen=True)
class ChatPrompt:
    """A prompt a runtime renders itself: the messages, and an estimate of their tokens."""

    messages: tuple[dict[str, str], ...]
    tokens: int

    def __len__(self) -> int:
        return self.tokens


Prompt = Sequence[int] | ChatPrompt

# Records one call to a runtime that is not on this device: (path, exact body) → awaited
# before the call is made (an egress ledger entry).
Recorder = Callable[[str, bytes], Awaitable[None]]


class Generated(Protocol):
    """A generation in progress: iterate for text; usage and finish reason set at the end."""

    @property
    def prompt_tokens(self) -> int: ...

    @property
    def completion_tokens(self) -> int: ...

    @property
    def finish_reason(self) -> str | None: ...

    def __aiter__(self) -> AsyncIterator[str]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Sampling:
    """Decoding parameters of one generation (OpenAI names where there is one)."""

    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length"


class LocalRuntime(Protocol):
    """The local model as sketch, local and logits use it."""

    context: int

    @property
    def name(self) -> str: ...

    @property
    def in_use(self) -> int: ...

    async def ready(self) -> None: ...

    def status(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...

    def check_capacity(self) -> None: ...

    def count_tokens(self, text: str) -> int: ...

    def chat_prompt(self, messages: list[dict[str, str]]) -> Prompt: ...

    def generate(self, prompt: Prompt, sampling: Sampling) -> Generated: ...

    async def complete(self, prompt: Prompt, sampling: Sampling) -> Completion: ...

    def bound(self, ex: Exchange, gate: Egress) -> LocalRuntime:
        """This runtime as one exchange uses it (a remote one records its calls there)."""
        ...
