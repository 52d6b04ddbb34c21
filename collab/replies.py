"""Answers written on the device, handed to the request's surface to be shaped.

The collaboration modes never build a wire format: they wrap the local (or fused)
generation in a `LocalAnswer`, which gives the app its own values back (placeholders of
this conversation restored, held back across pieces) and notes the usage when it ends, and
call `await surface.render(...)` (cogate.core.surface). Decoding parameters are read here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cogate.core.errors import BadRequest
from cogate.core.exchange import Exchange
from cogate.core.reply import Reply
from cogate.core.surface import Answer, Held, Surface, Turn

from .runtime import Sampling

DEFAULT_MAX_TOKENS = 512
# Field names of the token limit in the wire APIs the gateway serves (first given wins).
_MAX_TOKENS = ("max_completion_tokens", "max_tokens", "max_output_tokens")
_STOP = ("stop", "stop_sequences")


def surface_of(ex: Exchange) -> Surface:
    """The wire API an exchange came in on (set at ingress)."""
    if ex.surface is None:
        raise TypeError("the exchange has no surface; ingress sets it")
    return ex.surface


def turns_of(ex: Exchange) -> list[Turn]:
    """The request as plain turns, read through its surface (which refuses what it cannot)."""
    return surface_of(ex).turns(ex.op, ex.body)


def sampling_from_body(
    body: dict[str, Any], *, default_max_tokens: int = DEFAULT_MAX_TOKENS
) -> Sampling:
    """The app's decoding parameters, checked; those llama.cpp lacks are ignored."""
    n = body.get("n", 1)
    if n not in (1, None):
        raise BadRequest("the local model writes one choice per request; send n=1", param="n")
    max_tokens = next((body[k] for k in _MAX_TOKENS if body.get(k)), None) or default_max_tokens
    stop = next((body[k] for k in _STOP if body.get(k)), None) or ()
    if isinstance(stop, str):
        stop = (stop,)
    try:
        return Sampling(
            max_tokens=int(max_tokens),
            temperature=float(_given(body, "temperature", 0.7)),
            top_p=float(_given(body, "top_p", 0.95)),
            stop=tuple(str(s) for s in stop),
            seed=int(body["seed"]) if body.get("seed") is not None else None,
        )
    except (TypeError, ValueError):
        raise BadRequest(
            "max_tokens, temperature, top_p and seed must be numbers and stop a string or a list"
        ) from None


def _given(body: dict[str, Any], key: str, default: float) -> Any:
    value = body.get(key)
    return default if value is None else value


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


class LocalAnswer:
    """An `Answer` as the app should read it: placeholders restored (when `held` is given),
    usage noted on the exchange when the generation ends."""

    KEY = ("answer",)

    def __init__(self, inner: Answer, ex: Exchange, held: Held | None = None) -> None:
        self.inner, self.ex, self.held = inner, ex, held

    @property
    def finish_reason(self) -> str | None:
        return self.inner.finish_reason

    @property
    def prompt_tokens(self) -> int:
        return self.inner.prompt_tokens

    @property
    def completion_tokens(self) -> int:
        return self.inner.completion_tokens

    async def __aiter__(self) -> AsyncIterator[str]:
        async for piece in self.inner:
            if self.held is not None:
                piece = self.held.release(self.KEY, piece, final=False, json_escape=False)
            if piece:
                yield piece
        if self.held is not None and self.held.holds(self.KEY):
            rest = self.held.release(self.KEY, "", final=True, json_escape=False)
            if rest:
                yield rest
        self.ex.usage = usage(self.prompt_tokens, self.completion_tokens)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def render(ex: Exchange, answer: Answer, model: str) -> Reply:
    """The answer in the shape of the exchange's wire API; the app's values are put back
    when something was replaced in what left."""
    held = ex.restorer.held() if ex.needs_restoring else None
    return await surface_of(ex).render(ex.op, ex.body, LocalAnswer(answer, ex, held), model)
