"""`sketch` mode (CoGenesis variant 1): the cloud outlines, the local model writes.

The cloud receives only the sanitized general task with an outline prompt; the private
context (system message, marked spans, private headed sections) never leaves. The local
model then writes the answer from the original instruction, the outline and the private
context, streamed to the app. When the cloud fails and the policy allows it
(`collab.fallback_local`), the local model answers alone and the reply says so in
`x-cogate-fallback`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cogate.core.egress import Egress
from cogate.core.errors import UpstreamTimeout, UpstreamUnreachable
from cogate.core.exchange import Exchange, Sanitizer
from cogate.core.reply import Reply
from cogate.core.surface import cloud_request, cloud_text
from cogate.core.wire import encode_json
from cogate.policies.schema import policy_of

from .context import Split, split_exchange
from .guard import PrivateGuard, guard_for
from .instruction import DEFAULT_REDUCTION, sanitize_instruction
from .local import chat_messages, prompt_for
from .replies import render, sampling_from_body, surface_of
from .runtime_api import LocalRuntime, Prompt
from .screen import Screened, screen_task

log = logging.getLogger("cogate.collab.sketch")

OUTLINE_SYSTEM = (
    "You plan pieces of writing for someone else, who will write the final text. Reply with "
    "a short outline only: 3 to 6 bullet points of one line each. Do not write the text "
    "itself and do not ask questions."
)
FINAL_SYSTEM = (
    "You write for the user described below, in their own voice and style, drawing on the "
    "details they shared. Write the finished text only."
)
SKETCH_FALLBACK_HEADER = "x-cogate-fallback"
OUTLINE_TOKENS = 256


def fallback_allowed(ex: Exchange) -> bool:
    """The policy's `collab.fallback_local`: may the local model answer alone?"""
    return policy_of(ex).collab.fallback_local


def outline_request(
    ex: Exchange, task: str, max_tokens: int = OUTLINE_TOKENS
) -> tuple[str, dict[str, Any]]:
    """(route, body) of the one request sketch mode sends: to the upstream of the app's own
    API, in its shape."""
    if ex.surface is None:
        raise TypeError("the exchange has no surface; ingress sets it")
    prompt = f"Outline this writing task: {task}"
    return cloud_request(ex.surface, ex.op, ex.model, OUTLINE_SYSTEM, prompt, max_tokens)


_BULLET = re.compile(r"^(?:[-*\u2022]|\d+[.)])\s+(.*)$")


def tidy_outline(text: str, max_items: int = 6, max_words: int = 14) -> str:
    """The outline's points as short bullets: a small local model copies long prose it is
    shown, where it follows a list of headings. Markup and links are dropped."""
    text = re.sub(r"<[^>]*>|https?://\S+|\*\*|__", "", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    points = [m.group(1) for line in lines if (m := _BULLET.match(line))]
    if not points:
        points = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(lines)) if s.strip()]
    items = []
    for point in points:
        words = point.strip(" :*#").split()
        if words:
            items.append(" ".join(words[:max_words]))
        if len(items) == max_items:
            break
    return "\n".join(f"- {item}" for item in items)


def with_outline(messages: list[dict[str, str]], outline: str | None) -> list[dict[str, str]]:
    """The app's own request with the outline added to its last user turn: the local model
    reads what it would read in local mode, plus the plan."""
    out = [dict(m) for m in messages]
    if outline:
        last = max((i for i, m in enumerate(out) if m["role"] == "user"), default=None)
        note = f"Outline to follow:\n{outline}"
        if last is None:
            out.append({"role": "user", "content": note})
        else:
            out[last]["content"] = f"{out[last]['content']}\n\n{note}"
    return out


def final_messages(
    split: Split, instruction: str, outline: str | None, private: str
) -> list[dict[str, str]]:
    """What the local model reads: private context, earlier turns, the task and the outline."""
    system = FINAL_SYSTEM + (f"\n\n{private}" if private.strip() else "")
    messages = [{"role": "system", "content": system}]
    last_user = max((i for i, t in enumerate(split.turns) if t.role == "user"), default=-1)
    for index, turn in enumerate(split.turns):
        if index != last_user and turn.text.strip():
            role = turn.role if turn.role in ("user", "assistant") else "user"
            messages.append({"role": role, "content": turn.text})
    task = instruction
    if outline:
        task += f"\n\nFollow this outline:\n{outline.strip()}"
    messages.append({"role": "user", "content": task})
    return messages


def fit_prompt(
    model: LocalRuntime, build: Callable[[str], list[dict[str, str]]], private: str, reserve: int
) -> Prompt:
    """Token ids of `build(private)`, cutting the private context from its end (the writing
    history comes last) until `reserve` tokens remain for the answer."""
    budget = model.context - reserve
    prompt = prompt_for(model, build(private))
    for _ in range(6):
        over = len(prompt) - budget
        if over <= 0 or not private:
            break
        chars_per_token = len(private) / max(1, model.count_tokens(private))
        keep = max(0, len(private) - int(over * chars_per_token * 1.1) - 16)
        private = private[:keep].rsplit("\n", 1)[0] if "\n" in private[:keep] else private[:keep]
        prompt = prompt_for(model, build(private))
    return prompt


@dataclass
class Prepared:
    split: Split
    instruction: str  # the original instruction (stays local)
    guard: PrivateGuard
    body: dict[str, Any] | None  # the one request that leaves; None: the task stays local
    screened: Screened  # what the sensitive-task check found and did
    route: str = "chat/completions"  # where it goes, under the app's upstream


class SketchRunner:
    def __init__(
        self,
        model: LocalRuntime,
        privacy: Sanitizer,
        *,
        reduction: str = DEFAULT_REDUCTION,
        outline_tokens: int = OUTLINE_TOKENS,
    ) -> None:
        self.model = model
        self.privacy = privacy
        self.reduction = reduction
        self.outline_tokens = outline_tokens

    async def prepare(self, ex: Exchange, model: LocalRuntime | None = None) -> Prepared:
        """Everything up to the egress: split, sanitize and build the outline request."""
        model = model or self.model
        split = split_exchange(ex, "sketch")
        instruction = split.instruction
        if self.reduction == "rewrite":
            await model.ready()
        guard = await guard_for(ex, split.private_text, self.privacy)
        task = await sanitize_instruction(
            ex, instruction, self.privacy, reduction=self.reduction, model=model, guard=guard
        )
        screened = screen_task(ex, task)
        if screened.local:
            return Prepared(split, instruction, guard, None, screened)
        # An outline need not be longer than the answer it plans.
        tokens = min(self.outline_tokens, max(48, sampling_from_body(ex.body).max_tokens))
        route, body = outline_request(ex, screened.text, tokens)
        return Prepared(split, instruction, guard, body, screened, route)

    async def run(self, ex: Exchange, gate: Egress) -> Reply:
        sampling = sampling_from_body(ex.body)
        model = self.model.bound(ex, gate)
        # Refuse before the cloud is asked for an outline nobody could use (a runtime that is
        # down included: 503 naming it, never the cloud alone).
        model.check_capacity()
        await model.ready()
        prepared = await self.prepare(ex, model)
        prepared.screened.mark(ex)
        outline: str | None = None
        if prepared.body is None:  # a sensitive task: nothing leaves
            ex.mode = "local"
            note = {"local_model": model.name, "collab": "sketch", **prepared.screened.note}
            await gate.record_local(ex, note=note)
        else:
            ex.outbound = encode_json(prepared.body)
            outline, reply = await self._outline(ex, gate, prepared)
            if reply is not None:
                return reply
        if outline is not None:
            outline = tidy_outline(prepared.guard.restore(outline)) or None
            ex.notes["sketch_outline"] = outline

        def build(private: str) -> list[dict[str, str]]:
            return final_messages(prepared.split, prepared.instruction, outline, private)

        reserve = min(sampling.max_tokens, model.context // 4)
        messages = chat_messages(prepared.split.request)
        prompt = prompt_for(model, with_outline(messages, outline))
        if len(prompt) > model.context - reserve:
            # Too long as sent: rebuild it with the private context cut to fit.
            prompt = fit_prompt(model, build, prepared.split.private_text, reserve)
        gen = model.generate(prompt, sampling)
        ex.notes["local_prompt_tokens"] = len(prompt)
        return await render(ex, gen, model.name)

    async def _outline(
        self, ex: Exchange, gate: Egress, prepared: Prepared
    ) -> tuple[str | None, Reply | None]:
        """(outline, None), or (None, the upstream's error reply) when it failed and the
        policy does not allow a local fallback; (None, None) for a local fallback."""
        allowed = fallback_allowed(ex)
        try:
            split = prepared.split
            kept = prepared.guard.kept(split.private_text, len(split.private))
            note = {"purpose": "sketch outline", "kept_local": kept, **prepared.screened.note}
            upstream = await gate.send(ex, prepared.route, prepared.body, note=note)
        except (UpstreamUnreachable, UpstreamTimeout) as exc:
            if not allowed:
                raise
            self._fall_back(ex, exc.code)
            return None, None
        if upstream.status >= 400:
            if not allowed:
                return None, Reply(
                    status=upstream.status,
                    headers=upstream.headers,
                    body=upstream.content,
                    media_type=upstream.headers.get("content-type", "application/json"),
                )
            self._fall_back(ex, f"upstream_status_{upstream.status}")
            return None, None
        try:
            data = upstream.json()
            if ex.needs_restoring:
                data = ex.restorer.restore_json(data)
            outline = cloud_text(surface_of(ex), ex.op, data)
        except (ValueError, KeyError, IndexError, TypeError):
            if not allowed:
                raise UpstreamUnreachable(
                    "the upstream's outline held no text; check that the upstream speaks the "
                    "app's API"
                ) from None
            self._fall_back(ex, "upstream_bad_reply")
            return None, None
        return outline, None

    def _fall_back(self, ex: Exchange, reason: str) -> None:
        log.warning("sketch outline failed (%s); answering locally for %s", reason, ex.id)
        ex.response_headers[SKETCH_FALLBACK_HEADER] = f"local; reason={reason}"
        ex.notes["fallback"] = reason
