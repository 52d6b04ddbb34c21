"""`logits` mode (CoGenesis variant 2) as a gateway runner.

The local model reads the whole request, private context included, and leads decoding;
the cloud sees the sanitized general instruction and a sanitized copy of the answer so far,
and is consulted only where the local model is unsure (see `_decode`). When the upstream
cannot continue a raw prompt with logprobs, the request falls back to sketch (or local)
mode, or is refused, as the policy says; the reason is in `x-cogate-logits-fallback` and in
the ledger.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any

from cogate.collab.context import split_exchange
from cogate.collab.instruction import DEFAULT_REDUCTION, sanitize_instruction
from cogate.collab.replies import completion_body, completion_id, sampling_from_body, usage
from cogate.collab.runtime import LocalModel
from cogate.collab.sketch import final_messages, fit_prompt
from cogate.core.egress import Egress, Runner
from cogate.core.errors import BadRequest, GatewayError, error_body
from cogate.core.exchange import Exchange, Sanitizer
from cogate.core.reply import Reply
from cogate.core.settings import Settings
from cogate.policies.schema import policy_of

from .cloud import CLOUD_TEMPLATE, CloudDrafter
from .decode import LogitsOptions, Sampler, Stats, Stepper, decode
from .fusion import FixedGate, MlpGate, load_gate
from .guard import private_terms
from .local import LlamaStepper
from .probe import CapabilityProbe

log = logging.getLogger("cogate.collab.logits")

FALLBACK_HEADER = "x-cogate-logits-fallback"
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

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gate, name)


class LogitsRunner:
    """Runner for mode `logits`. `fallbacks` maps "sketch"/"local" to their runners."""

    def __init__(
        self,
        settings: Settings,
        local_model: LocalModel,
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
        self.stepper = stepper  # how the raw llama is driven token by token
        log.info("logits mode: fusion gate %s", self.gate.describe())

    async def run(self, ex: Exchange, gate: Egress) -> Reply:
        sampling = sampling_from_body(ex.body)
        split = split_exchange(ex, "logits")
        instruction = split.instruction
        self.model.check_capacity()
        capability = await self.probe.capability(ex, gate, ex.model)
        if not capability.usable:
            return await self._fall_back(ex, gate, capability.reason)
        await self.model.ready()

        task = await sanitize_instruction(
            ex, instruction, self.privacy, reduction=self.reduction, model=self.model
        )
        terms = private_terms(split.private_text, task)
        task = terms.scrub(task)
        drafter = CloudDrafter(
            ex,
            gate,
            self.privacy,
            instruction=task,
            terms=terms,
            model=ex.model,
            top_k=capability.top_k,
            template=self.template,
        )

        def build(private: str) -> list[dict[str, str]]:
            return final_messages(split, instruction, None, private)

        reserve = min(sampling.max_tokens, self.model.context // 4)
        prompt = fit_prompt(self.model, build, split.private_text, reserve)
        max_tokens = max(1, min(sampling.max_tokens, self.model.context - len(prompt)))
        sampler = Sampler(temperature=_temperature(ex.body), seed=sampling.seed)
        stats = Stats()
        ex.notes["local_prompt_tokens"] = len(prompt)
        ex.response_headers["x-cogate-logits-gate"] = self.gate.describe()
        pieces = self._generate(prompt, drafter, sampler, stats, max_tokens)
        name = self.model.name
        if ex.stream:
            include = bool((ex.body.get("stream_options") or {}).get("include_usage"))
            return Reply(
                status=200,
                stream=self._stream(ex, pieces, stats, name, len(prompt), include),
                media_type="text/event-stream",
            )
        text = "".join([piece async for piece in pieces])
        ex.notes["usage"] = usage(len(prompt), stats.tokens)
        ex.notes["logits"] = stats.summary()
        ex.response_headers[STATS_HEADER] = str(stats.calls)
        ex.response_headers[ACCEPTED_HEADER] = str(stats.accepted)
        body = completion_body(name, text, stats.finish_reason, len(prompt), stats.tokens)
        if ex.needs_restoring:
            body = ex.restorer.restore_json(body)
        return Reply(status=200, body=json.dumps(body, ensure_ascii=False).encode())

    async def _generate(
        self,
        prompt: list[int],
        drafter: CloudDrafter,
        sampler: Sampler,
        stats: Stats,
        max_tokens: int,
    ) -> AsyncGenerator[str, None]:
        async with self.model.exclusive() as llama:
            stepper = self.stepper(llama)
            async for text in decode(
                stepper, prompt, drafter, self.gate, self.options, max_tokens, sampler, stats
            ):
                yield text

    async def _stream(
        self,
        ex: Exchange,
        pieces: AsyncGenerator[str, None],
        stats: Stats,
        model: str,
        prompt_tokens: int,
        include_usage: bool,
    ) -> AsyncIterator[bytes]:
        base = {
            "id": completion_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        restorer = ex.restorer.stream() if ex.needs_restoring else None

        def events(delta: dict[str, Any], finish: str | None) -> list[bytes]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
            event = {**base, "choices": [choice]}
            out = restorer.feed(event) if restorer is not None else [event]
            return [_encode(e) for e in out]

        try:
            for chunk in events({"role": "assistant", "content": ""}, None):
                yield chunk
            try:
                async for piece in pieces:
                    for chunk in events({"content": piece}, None):
                        yield chunk
            except GatewayError as exc:
                yield _encode(error_body(exc.message, exc.type, exc.code))
                yield b"data: [DONE]\n\n"
                return
            for chunk in events({}, stats.finish_reason):
                yield chunk
            if restorer is not None:
                for event in restorer.finish():
                    yield _encode(event)
            counted = usage(prompt_tokens, stats.tokens)
            ex.notes["usage"] = counted
            ex.notes["logits"] = stats.summary()
            if include_usage:
                yield _encode({**base, "choices": [], "usage": counted})
            yield b"data: [DONE]\n\n"
        finally:
            await pieces.aclose()

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
                headers={FALLBACK_HEADER: f"refused; reason={reason}"},
            )
        ex.mode = choice
        ex.notes["logits_fallback"] = reason
        ex.response_headers[FALLBACK_HEADER] = f"{choice}; reason={reason}"
        noted = _NotingGate(gate, {"logits_fallback": choice, "logits_fallback_reason": reason})
        return await runner.run(ex, noted)


def _temperature(body: dict[str, Any]) -> float:
    """Greedy unless the app asks for a temperature: fusion is judged on its best guess."""
    value = body.get("temperature")
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except (TypeError, ValueError):
        raise BadRequest("temperature must be a number", param="temperature") from None


def _encode(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
