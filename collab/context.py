"""Split a request into its private context (kept on the device) and its instruction.

The policy's `private_context` names what is private: the system message, spans between
markers such as `<private>…</private>`, and headed sections such as `## User Profile`.
Everything else is the instruction. The request is read as plain turns through its
surface (`Surface.turns`), whatever its wire API. Both layouts of a context-laden request
are handled: the CoGenesis single user message (`## User Profile` / `## User Writing
History` / `## Task`) and the profile in the system message with the task as the user turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cogate.core.errors import BadRequest
from cogate.core.exchange import Exchange
from cogate.core.surface import Turn
from cogate.policies.schema import PrivateContext, policy_of
from cogate.policies.sections import split_private

from .replies import turns_of

__all__ = ["Split", "Turn", "split_exchange", "split_turns"]


@dataclass
class Split:
    """A request taken apart; each turn's text is what remains once its private parts are
    taken out."""

    private: list[str] = field(default_factory=list)  # private pieces, in request order
    turns: list[Turn] = field(default_factory=list)  # the conversation without them
    request: list[Turn] = field(default_factory=list)  # the turns as read, whole

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


def split_turns(turns: list[Turn], rules: PrivateContext) -> Split:
    """Private pieces (system text when the policy says so, marked spans, headed sections)
    and the rest of each turn."""
    split = Split(request=list(turns))
    for turn in turns:
        if rules.system_message and turn.role == "system":
            split.private.append(turn.text)
            continue
        rest, private = split_private(turn.text, rules)
        split.private.extend(private)
        split.turns.append(Turn(turn.role, rest.strip() if private else turn.text))
    return split


def split_exchange(ex: Exchange, mode: str) -> Split:
    """The private context and instruction of an exchange for a collaboration mode, read
    through its surface; refuses requests the mode cannot serve."""
    split = split_turns(turns_of(ex), policy_of(ex).private_context)
    if not split.instruction:
        raise BadRequest(
            f"nothing is left to send in {mode} mode once the private context is taken out; "
            "put the task in a user message outside the private sections"
        )
    return split
