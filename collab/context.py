"""Split a chat request into its private context (kept on the device) and its instruction.

The policy's `private_context` names what is private: the system message, spans between
markers such as `<private>…</private>`, and headed sections such as `## User Profile`.
Everything else is the instruction. Both layouts of a context-laden request are handled:
the CoGenesis single user message (`## User Profile` / `## User Writing History` /
`## Task`) and the profile in the system message with the task as the user turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cogate.core.errors import BadRequest
from cogate.core.exchange import Exchange
from cogate.policies.schema import PrivateContext, policy_of
from cogate.policies.sections import split_private


@dataclass
class Turn:
    role: str
    text: str  # what remains of the message once its private parts are taken out


@dataclass
class Split:
    """A chat request taken apart."""

    private: list[str] = field(default_factory=list)  # private pieces, in request order
    turns: list[Turn] = field(default_factory=list)  # the conversation without them

    @property
    def private_text(self) -> str:
        return "\n\n".join(piece for piece in self.private if piece.strip())

    @property
    def instruction(self) -> str:
        """The last user turn without its private parts: what the app asks for now."""
        for turn in reversed(self.turns):
            if turn.role == "user" and turn.text.strip():
                return turn.text.strip()
        return ""


def message_text(message: dict[str, Any], index: int) -> str:
    """The text of a chat message; refuses parts that are not text (they cannot be split)."""
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise BadRequest(
                    f"messages[{index}] has a {kind!r} part; the sketch and local modes take "
                    "text only, so send text or use redact mode",
                    param=f"messages[{index}].content",
                )
        return "\n".join(texts)
    raise BadRequest(
        f"messages[{index}].content must be a string or a list of parts",
        param=f"messages[{index}].content",
    )


def split_request(body: dict[str, Any], rules: PrivateContext) -> Split:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("`messages` must be a non-empty list of chat messages", param="messages")
    split = Split()
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BadRequest(f"messages[{index}] must be an object", param=f"messages[{index}]")
        role = str(message.get("role", "user"))
        text = message_text(message, index)
        if rules.system_message and role in ("system", "developer"):
            split.private.append(text)
            continue
        rest, private = split_private(text, rules)
        split.private.extend(private)
        split.turns.append(Turn(role, rest.strip() if private else text))
    return split


def split_exchange(ex: Exchange, mode: str) -> Split:
    """The private context and instruction of a chat exchange for a collaboration mode;
    refuses routes and requests the mode cannot serve."""
    if ex.route != "chat/completions":
        raise BadRequest(
            f"{mode} mode answers /v1/chat/completions only, not /v1/{ex.route}; "
            "use redact mode for this route"
        )
    split = split_request(ex.body, policy_of(ex).private_context)
    if not split.instruction:
        raise BadRequest(
            "nothing is left to send once the private context is taken out; put the task "
            "in a user message outside the private sections"
        )
    return split
