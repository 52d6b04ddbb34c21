"""The cloud's side of logits mode: sanitized draft requests over legacy `/v1/completions`.

Every payload is built here and only here: the sanitized general instruction plus a copy of
the generated prefix that went through the privacy engine (with the conversation's
placeholders) and then through the private-context guard (`cogate.collab.guard`). The raw
prefix never leaves.
"""

from __future__ import annotations

import logging
from typing import Any

from cogate.collab.guard import PrivateGuard
from cogate.collab.instruction import redact
from cogate.core.egress import Egress
from cogate.core.errors import GatewayError
from cogate.core.exchange import Exchange, Sanitizer
from cogate.policies.sensitive import generalise

from .align import CloudStep, Draft

log = logging.getLogger("cogate.collab.logits")

PREFIX_FIELD = "logits.prefix"
# A plain layout every completion model continues sensibly, base or instruct.
CLOUD_TEMPLATE = "Task: {instruction}\n\nResponse:\n"


class CloudDrafter:
    """Ask the cloud to continue the answer; one ledger entry per call."""

    def __init__(
        self,
        ex: Exchange,
        gate: Egress,
        privacy: Sanitizer,
        *,
        instruction: str,
        guard: PrivateGuard,
        model: str | None,
        top_k: int,
        template: str = CLOUD_TEMPLATE,
        generalised: bool = False,
        note: dict[str, Any] | None = None,
    ) -> None:
        self.ex = ex
        self.gate = gate
        self.privacy = privacy
        self.instruction = instruction  # already sanitized
        self.guard = guard
        self.generalised = generalised  # the task's sensitive matters were generalised
        self.note = note or {}
        self.model = model
        self.top_k = top_k
        self.template = template
        self.payloads: list[dict[str, Any]] = []

    async def prompt_for(self, prefix: str) -> str:
        safe = self.guard.scrub(await redact(self.ex, prefix, self.privacy, PREFIX_FIELD))
        if self.generalised:
            safe = generalise(safe)
        return self.template.format(instruction=self.instruction) + safe

    async def __call__(self, prefix: str, n_tokens: int) -> Draft | None:
        body: dict[str, Any] = {
            "prompt": await self.prompt_for(prefix),
            "max_tokens": n_tokens,
            "temperature": 0,
            "logprobs": self.top_k,
            "stream": False,
        }
        if self.model:
            body = {"model": self.model, **body}
        note = {
            **self.note,
            "collab": "logits",
            "purpose": "draft",
            "call": len(self.payloads) + 1,
            "prefix_chars": len(prefix),
        }
        self.payloads.append(body)
        try:
            # Legacy completions with logprobs: an OpenAI-compatible API whatever the app's.
            reply = await self.gate.send(self.ex, "completions", body, note=note, api="openai")
        except GatewayError as exc:
            if exc.code == "audit_ledger_unavailable":
                raise  # fail closed: nothing more may leave unrecorded
            log.warning("logits draft call failed (%s) for %s", exc.code, self.ex.id)
            return None
        if reply.status >= 400:
            log.warning("logits draft call answered %s for %s", reply.status, self.ex.id)
            return None
        try:
            draft = parse_draft(reply.json(), at_start=not prefix)
        except (ValueError, KeyError, IndexError, TypeError):
            log.warning("logits draft reply without logprobs for %s", self.ex.id)
            return None
        return draft


def parse_draft(data: dict[str, Any], *, at_start: bool = False) -> Draft | None:
    """A Draft from a legacy completion with `logprobs`. `at_start`: the answer is still
    empty, so whitespace the cloud puts before it (after "Response:") is layout, not text."""
    choice = data["choices"][0]
    logprobs = choice.get("logprobs") or {}
    tokens = logprobs.get("tokens") or []
    tops = logprobs.get("top_logprobs") or []
    chosen = logprobs.get("token_logprobs") or []
    steps = []
    for i, token in enumerate(tokens):
        top = tops[i] if i < len(tops) and isinstance(tops[i], dict) else {}
        steps.append(
            CloudStep(
                token=str(token).encode("utf-8"),
                top={str(k).encode("utf-8"): float(v) for k, v in top.items() if v is not None},
                logprob=float(chosen[i]) if i < len(chosen) and chosen[i] is not None else None,
            )
        )
    if at_start:
        while steps and not steps[0].token.strip():
            steps.pop(0)
    if not steps:
        return None
    return Draft(steps, stopped=choice.get("finish_reason") == "stop")
