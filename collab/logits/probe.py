"""Find out once per upstream whether it can continue a raw prompt and report top-k logprobs.

Logits mode needs the cloud to continue a partial answer and say how likely its
alternatives were. The legacy `/v1/completions` route with `logprobs` does both (llama.cpp's
server, vLLM, OpenAI's instruct models, which cap top-k at 5). Chat `top_logprobs` cannot
continue a partial answer, so an upstream that only speaks chat cannot serve logits mode.
A definite answer is remembered; a transient failure (unreachable, 5xx, 429) is not.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from cogate.core.egress import Egress
from cogate.core.errors import GatewayError
from cogate.core.exchange import Exchange

PROBE_PROMPT = "The capital of France is"
MAX_TOP_K = 5  # OpenAI's legacy cap; enough for the gate


@dataclass(frozen=True)
class Capability:
    scheme: str | None  # "completions" or None when logits mode cannot run here
    top_k: int = 0
    reason: str = ""  # why not, for the response header and the ledger
    final: bool = True  # False: a transient failure, ask again next time

    @property
    def usable(self) -> bool:
        return self.scheme is not None


class CapabilityProbe:
    def __init__(self) -> None:
        self._known: dict[tuple[str, str | None], Capability] = {}
        self._locks: dict[tuple[str, str | None], asyncio.Lock] = {}

    def known(self, base_url: str, model: str | None) -> Capability | None:
        return self._known.get((base_url, model))

    async def capability(self, ex: Exchange, gate: Egress, model: str | None) -> Capability:
        # Drafts speak OpenAI-compatible completions; an app of another API family has them
        # answered by the configured OpenAI-compatible upstream, not its intercepted host.
        own = ex.surface is None or ex.surface.upstream == "openai"
        key = (gate.settings.upstream_for(ex.destination_host if own else None), model)
        if key in self._known:
            return self._known[key]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._known:
                return self._known[key]
            found = await self._probe(ex, gate, model)
            if found.final:
                self._known[key] = found
            return found

    async def _probe(self, ex: Exchange, gate: Egress, model: str | None) -> Capability:
        body: dict[str, Any] = {
            "prompt": PROBE_PROMPT,
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": MAX_TOP_K,
        }
        if model:
            body["model"] = model
        try:
            note = {"collab": "logits", "purpose": "capability-probe"}
            reply = await gate.send(ex, "completions", body, note=note, api="openai")
        except GatewayError as exc:
            if exc.code == "audit_ledger_unavailable":
                raise
            return Capability(None, reason=f"probe failed ({exc.code})", final=False)
        if reply.status == 429 or reply.status >= 500:
            return Capability(None, reason=f"probe answered {reply.status}", final=False)
        if reply.status >= 400:
            return Capability(
                None, reason=f"upstream has no usable /completions (HTTP {reply.status})"
            )
        try:
            top = reply.json()["choices"][0]["logprobs"]["top_logprobs"]
        except (ValueError, KeyError, IndexError, TypeError):
            return Capability(None, reason="upstream /completions returns no logprobs")
        if not isinstance(top, list) or not top or not isinstance(top[0], dict) or not top[0]:
            return Capability(None, reason="upstream /completions returns no top-k logprobs")
        return Capability("completions", top_k=min(MAX_TOP_K, len(top[0])))
