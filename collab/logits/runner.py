"""`logits` mode (CoGenesis variant 2) as a gateway runner.

The local model reads the whole request, private context included, and leads decoding;
the cloud sees the sanitized general instruction and a sanitized copy of the answer so far,
and is consulted only where the local model is unsure (see `_decode`). When the upstream
cannot continue a raw prompt with logprobs, the request falls back to sketch (or local)
mode, or is refused, as the policy says; the reason is in `x-cogate-logits-fallback` and in
the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any

from cogate.collab.context import split_exchange
from cogate.collab.guard import guard_for
from cogate.collab.http_model import HttpModel
from cogate.collab.instruction import DEFAULT_REDUCTION, sanitize_instruction
from cogate.collab.replies import render, sampling_from_body
from cogate.collab.runtime import LocalModel
from cogate.collab.runtime_api import LocalRuntime, Prompt
from cogate.collab.screen import Screened, screen_task
from cogate.collab.sketch import final_messages, fit_prompt
from cogate.core.egress import Egress, Runner
from cogate.core.errors import BadRequest, GatewayError, SensitiveTaskRefused
from cogate.core.exchange import Exchange, Sanitizer
from cogate.core.reply import Reply
from cogate.core.settings import Settings
from cogate.policies.schema import policy_of

from .cloud import CLOUD_TEMPLATE, CloudDrafter
from .decode import LogitsOptions, Sampler, Stats, Stepper, decode
from .fusion import FixedGate, MlpGate, load_gate
from .probe import CapabilityProbe
from .remote import RemoteStepper
from .stepper import LlamaStepper

log = logging.getLogger("cogate.collab.logits")

LOGITS_FALLBACK_HEADER = "x-cogate-logits-fallback"
STATS_HEADER = "x-cogate-logits-calls"  # cloud calls (plain replies only)
ACCEPTED_HEADER = "x-cogate-logits-accepted"  # tokens that agreed with a cloud draft
GATE_FILE = "fusion-gate.json"


class LogitsUnavailable(GatewayError):
    status = 502
    type = "upstream_error"
    code = "logits_unsupported"


def default_gate_path(settings: Settings) -> Path:
    """Where `cogate collab train-gate` writes by default and the gateway looks."""
    return Path(settings.data_dir) / GATE_FILE


def fallback_choice(ex: Exchange) -> str:
    """The policy's `collab.logits_fallback`: sketch | local | refuse (a choice without a
    runner in this gateway refuses too)."""
    return policy_of(ex).collab.logits_fallback


class _NotingGate:
    """The egress gate, adding the fallback reason to every ledger note it writes."""

    def __init__(self, gate: Egress, note: dict[str, Any]) -> None:
        self._gate = gate
        self._note = note
        self.settings = gate.settings

    async def send(self, ex: Exchange, path: str, body: Any, **kwargs: Any) -> Any:
        kwargs["note"] = {**self._note, **(kwargs.get("note") or {})}
        return await self._gate.send(ex, path, body, **kwargs)

    async def record_local(self, ex: Exchange, note: dict[str, Any] | None = None) -> str:
        return await self._gate.record_local(ex, {**self._note, **(note or {})})

    async def record_egress(
        self, ex: Exchange, host: str, path: str, body: bytes, note: dict[str, Any]
    ) -> str:
        return await self._gate.record_egress(ex, host, path, body, {**self._note, **note})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gate, name)


class FusedAnswer:
    """The fused decoding as an `Answer` (core.surface), so it streams like any local one;
    the logits statistics are noted when it ends."""

    def __init__(
        self,
        pieces: AsyncGenerator[str, None],
        stats: Stats,
        prompt_tokens: int,
        notes: dict[str, Any],
    ) -> None:
        self.pieces, self.stats, self.notes = pieces, stats, notes
        self.prompt_tokens = prompt_tokens

    @property
    def finish_reason(self) -> str | None:
        return self.stats.finish_reason

    @property
    def completion_tokens(self) -> int:
        return self.stats.tokens

    async def __aiter__(self) -> AsyncIterator[str]:
        async for piece in self.pieces:
            yield piece
        self.notes["logits"] = self.stats.summary()

    async def aclose(self) -> None:
        await self.pieces.aclose()


class LogitsRunner:
    """Runner for mode `logits`. `fallbacks` maps "sketch"/"local" to their runners."""

    def __init__(
        self,
        settings: Settings,
        local_model: LocalRuntime,
        privacy: Sanitizer,
        *,
        fallbacks: dict[str, Runner] | None = None,
        options: LogitsOptions | None = None,
        gate_path: Path | None = None,
        reduction: str = DEFAULT_REDUCTION,
        template: str = CLOUD_TEMPLATE,
        stepper: Callable[[Any], Stepper] = LlamaStepper,
    ) -> None:
        self.settings = settings
        self.model = local_model
        self.privacy = privacy
        self.fallbacks = dict(fallbacks or {})
        self.options = options or LogitsOptions()
        path = gate_path if gate_path is not None else default_gate_path(settings)
        self.gate: FixedGate | MlpGate = load_gate(path, self.options.fixed_weight)
        self.reduction = reduction
        self.template = template
        self.probe = CapabilityProbe()
        self.stepper = stepper  # how the held model (a Scorer) is read token by token
        log.info("logits mode: fusion gate %s", self.gate.describe())

    async def run(self, ex: Exchange, gate: Egress) -> Reply:
        sampling = sampling_from_body(ex.body)
        split = split_exchange(ex, "logits")
        instruction = split.instruction
        model = self.model.bound(ex, gate)
        model.check_capacity()
        await model.ready()  # a runtime that is down: 503 naming it, before the cloud is asked
        local_reason = _runtime_reason(model)
        if local_reason:  # a runtime without top-k logprobs falls back like such an upstream
            return await self._fall_back(ex, gate, local_reason)
        capability = await self.probe.capability(ex, gate, ex.model)
        if not capability.usable:
            return await self._fall_back(ex, gate, capability.reason)

        # Proper nouns of the writing history count too where the task does not use them.
        guard = await guard_for(ex, split.private_text, self.privacy, public=instruction)
        task = await sanitize_instruction(
            ex, instruction, self.privacy, reduction=self.reduction, model=model, guard=guard
        )
        screened = screen_task(ex, task)
        screened.mark(ex)
        if screened.local:
            return await self._sensitive(ex, gate, screened)
        drafter = CloudDrafter(
            ex,
            gate,
            self.privacy,
            instruction=screened.text,
            guard=guard,
            generalised=screened.outcome == "generalised",
            note={
                "kept_local": guard.kept(split.private_text, len(split.private)),
                **screened.note,
            },
            model=ex.model,
            top_k=capability.top_k,
            template=self.template,
        )

        def build(private: str) -> list[dict[str, str]]:
            return final_messages(split, instruction, None, private)

        reserve = min(sampling.max_tokens, model.context // 4)
        prompt = fit_prompt(model, build, split.private_text, reserve)
        max_tokens = max(1, min(sampling.max_tokens, model.context - len(prompt)))
        sampler = Sampler(temperature=_temperature(ex.body), seed=sampling.seed)
        stats = Stats()
        ex.notes["local_prompt_tokens"] = len(prompt)
        ex.response_headers["x-cogate-logits-gate"] = self.gate.describe()
        pieces = self._generate(model, prompt, drafter, sampler, stats, max_tokens)
        reply = await render(ex, FusedAnswer(pieces, stats, len(prompt), ex.notes), model.name)
        if reply.stream is None:  # read whole: the statistics are final
            ex.response_headers[STATS_HEADER] = str(stats.calls)
            ex.response_headers[ACCEPTED_HEADER] = str(stats.accepted)
        return reply

    async def _generate(
        self,
        model: LocalRuntime,
        prompt: Prompt,
        drafter: CloudDrafter,
        sampler: Sampler,
        stats: Stats,
        max_tokens: int,
    ) -> AsyncGenerator[str, None]:
        args = (drafter, self.gate, self.options, max_tokens, sampler, stats)
        if isinstance(model, HttpModel):
            # The user's runtime: its top-k log-probabilities, one queue slot meanwhile.
            slot = model.admit()
            try:
                top_k = model.capabilities.top_k if model.capabilities else 0
                async for text in decode(RemoteStepper(model, top_k), prompt, *args):
                    yield text
            finally:
                slot.release()
            return
        if not isinstance(model, LocalModel):
            raise TypeError(f"logits mode cannot step {type(model).__name__}")
        async with model.exclusive() as scorer:
            async for text in decode(self.stepper(scorer), prompt, *args):
                yield text

    async def _sensitive(self, ex: Exchange, gate: Egress, screened: Screened) -> Reply:
        """A task stating a sensitive matter stays on the device: the local runner answers,
        or the request is refused when this gateway has none."""
        runner = self.fallbacks.get("local")
        if runner is None:
            # The pipeline records the refusal in the ledger (kind `refusal`).
            ex.notes.update({"collab": "logits", **screened.note})
            raise SensitiveTaskRefused(
                "the task states a sensitive matter "
                f"({', '.join(screened.categories)}) and the policy keeps such tasks local "
                "(`private_context.sensitive_task: local`), but this gateway has no local "
                "mode; set `sensitive_task: generalise` or enable the local model"
            )
        ex.mode = "local"
        return await runner.run(ex, _NotingGate(gate, {"collab": "logits", **screened.note}))

    async def _fall_back(self, ex: Exchange, gate: Egress, reason: str) -> Reply:
        choice = fallback_choice(ex)
        runner = self.fallbacks.get(choice)
        log.warning("logits mode unavailable (%s); %s for %s", reason, choice, ex.id)
        if runner is None:
            note = {"collab": "logits", "outcome": "refused", "reason": reason}
            await gate.record_local(ex, note=note)
            raise LogitsUnavailable(
                f"logits mode needs an upstream that continues a raw prompt with logprobs "
                f"(legacy /v1/completions): {reason}. Point --upstream at such a server or "
                "choose sketch mode in the policy",
                headers={LOGITS_FALLBACK_HEADER: f"refused; reason={reason}"},
            )
        ex.mode = choice
        ex.notes["logits_fallback"] = reason
        ex.response_headers[LOGITS_FALLBACK_HEADER] = f"{choice}; reason={reason}"
        noted = _NotingGate(gate, {"logits_fallback": choice, "logits_fallback_reason": reason})
        return await runner.run(ex, noted)


def _runtime_reason(model: LocalRuntime) -> str:
    """Why the user's runtime cannot lead logits mode ("" when it can, or is embedded)."""
    if not isinstance(model, HttpModel):
        return ""
    caps = model.capabilities
    return caps.logits_reason if caps is not None else "the local runtime was not probed"


def _temperature(body: dict[str, Any]) -> float:
    """Greedy unless the app asks for a temperature: fusion is judged on its best guess."""
    value = body.get("temperature")
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except (TypeError, ValueError):
        raise BadRequest("temperature must be a number", param="temperature") from None
