"""`local` mode: the local model answers alone and nothing leaves the device.

The ledger still gets an entry for the exchange (kind `local`), so a review shows that the
request was answered on the device.
"""

from __future__ import annotations

import json
from typing import Any

from cogate.core.egress import Egress
from cogate.core.errors import BadRequest
from cogate.core.exchange import Exchange
from cogate.core.reply import Reply

from .context import message_text
from .replies import answer, sampling_from_body
from .runtime import LocalModel


def chat_messages(body: dict[str, Any]) -> list[dict[str, str]]:
    """The request's messages as plain text with the roles chat templates know."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("`messages` must be a non-empty list of chat messages", param="messages")
    out = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BadRequest(f"messages[{index}] must be an object", param=f"messages[{index}]")
        role = str(message.get("role", "user"))
        text = message_text(message, index)
        if role == "developer":
            role = "system"
        elif role in ("tool", "function"):
            role, text = "user", f"(tool result)\n{text}"
        elif role not in ("system", "user", "assistant"):
            role = "user"
        out.append({"role": role, "content": text})
    return out


def prompt_for(model: LocalModel, messages: list[dict[str, str]]) -> list[int]:
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


def models_reply(model: LocalModel) -> Reply:
    listing = {
        "object": "list",
        "data": [{"id": model.name, "object": "model", "created": 0, "owned_by": "cogate-local"}],
    }
    return Reply(status=200, body=json.dumps(listing).encode())


class LocalRunner:
    """Answer chat completions with the local model; nothing is sent upstream."""

    def __init__(self, model: LocalModel) -> None:
        self.model = model

    async def run(self, ex: Exchange, gate: Egress) -> Reply:
        if ex.route == "models":
            await gate.record_local(ex, note={"local_model": self.model.name})
            return models_reply(self.model)
        if ex.route != "chat/completions":
            raise BadRequest(
                f"local mode answers /v1/chat/completions only, not /v1/{ex.route}; "
                "use redact mode for this route"
            )
        sampling = sampling_from_body(ex.body)
        messages = chat_messages(ex.body)
        await self.model.ready()
        prompt = prompt_for(self.model, messages)
        gen = self.model.generate(prompt, sampling)  # Overloaded here, before anything is recorded
        try:
            await gate.record_local(
                ex, note={"local_model": self.model.name, "prompt_tokens": len(prompt)}
            )
        except BaseException:
            await gen.aclose()
            raise
        return await answer(gen, ex.body, self.model.name, notes=ex.notes)
