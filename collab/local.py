"""`local` mode: the local model answers alone and nothing leaves the device.

The ledger still gets an entry for the exchange (kind `local`), so a review shows that the
request was answered on the device.
"""

from __future__ import annotations

import json

from cogate.core.egress import Egress
from cogate.core.exchange import Exchange
from cogate.core.reply import Reply
from cogate.core.surface import Turn

from .replies import render, sampling_from_body, turns_of
from .runtime_api import LocalRuntime, Prompt


def chat_messages(turns: list[Turn]) -> list[dict[str, str]]:
    """The turns as messages with the roles chat templates know."""
    out = []
    for turn in turns:
        role, text = turn.role, turn.text
        if role == "tool":
            role, text = "user", f"(tool result)\n{text}"
        elif role not in ("system", "user", "assistant"):
            role = "user"
        out.append({"role": role, "content": text})
    return out


def prompt_for(model: LocalRuntime, messages: list[dict[str, str]]) -> Prompt:
    """Token ids of `messages`; a template that refuses a system role gets it merged into the
    first user turn, as such models expect."""
    try:
        return model.chat_prompt(messages)
    except ValueError:
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        rest = [dict(m) for m in messages if m["role"] != "system"]
        if not system or not rest:
            raise
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
        return model.chat_prompt(rest)


def models_reply(model: LocalRuntime) -> Reply:
    listing = {
        "object": "list",
        "data": [{"id": model.name, "object": "model", "created": 0, "owned_by": "cogate-local"}],
    }
    return Reply(status=200, body=json.dumps(listing).encode())


class LocalRunner:
    """Answer a conversation with the local model; nothing is sent upstream."""

    def __init__(self, model: LocalRuntime) -> None:
        self.model = model

    async def run(self, ex: Exchange, gate: Egress) -> Reply:
        if ex.route == "models":
            await gate.record_local(ex, note={"local_model": self.model.name})
            return models_reply(self.model)
        messages = chat_messages(turns_of(ex))  # the surface refuses what it cannot answer
        sampling = sampling_from_body(ex.body)
        model = self.model.bound(ex, gate)
        await model.ready()
        prompt = prompt_for(model, messages)
        gen = model.generate(prompt, sampling)  # Overloaded here, before anything is recorded
        try:
            await gate.record_local(
                ex, note={"local_model": model.name, "prompt_tokens": len(prompt)}
            )
        except BaseException:
            await gen.aclose()
            raise
        return await render(ex, gen, model.name)
