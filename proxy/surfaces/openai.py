"""What the OpenAI surfaces share: base URL and prefix, the top-level field walk, restoring
JSON answers and `choices` stream chunks, and refusing local answers outside chat."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from cogate.core.errors import BadRequest
from cogate.core.reply import Reply
from cogate.core.surface import Answer, EventRestorer, Held, Scanner, SSEEvent, TextRestore, Turn
from cogate.core.wire import encode_json
from cogate.policies.contract import Custom, Node, Walk
from cogate.policies.restore import TextRestorer

from .chat_stream import ChatStreamRestorer
from .contracts import contract

# The walk of one field a surface writes itself: (value, path, scanner) -> the value to send.
FieldWalk = Callable[[Any, str, Scanner], Any]


def custom(walk: FieldWalk) -> Callable[[Node], Node]:
    """Wraps a contract node in a surface's own walk (the node stays for coverage)."""
    return lambda inner: Custom(lambda value, w: walk(value, w.path(), w.scanner), inner)


def api_contract(name: str, walks: Mapping[str, FieldWalk]) -> Node:
    """The contract in `contracts/<name>.tsv`, with `walks` at the paths they name."""
    return contract(name, {}, **{name: {"wrap": {p: custom(f) for p, f in walks.items()}}})


def rewrite_fields(body: dict[str, Any], scanner: Scanner, contract_node: Node) -> bytes:
    """The body walked by the surface's field contract, encoded."""
    return encode_json(contract_node.walk(body, Walk(scanner)))


def restore_strings(node: Any, text: TextRestore, key: str | None = None) -> Any:
    """Every string of a JSON answer restored; tool-call arguments are JSON inside a string,
    so their values stay JSON-escaped."""
    if isinstance(node, str):
        return text.restore(node, json_escape=key == "arguments")
    if isinstance(node, dict):
        return {k: restore_strings(v, text, k) for k, v in node.items()}
    if isinstance(node, list):
        return [restore_strings(item, text, key) for item in node]
    return node


class ChoiceChunks:
    """Restores `choices` stream chunks (chat deltas, completions text) event by event."""

    def __init__(self, text: TextRestore) -> None:
        # The privacy engine's chunk walker (policies/restore.py) owns the hold-back rules.
        self.chunks = ChatStreamRestorer(cast(TextRestorer, text))

    def feed(self, event: SSEEvent) -> list[SSEEvent]:
        if not isinstance(event.data, dict):
            return [event]
        return [SSEEvent(event.name, data) for data in self.chunks.feed(event.data)]

    def finish(self) -> list[SSEEvent]:
        return [SSEEvent(None, data) for data in self.chunks.finish()]


class OpenAISurface:
    """Defaults of an OpenAI-compatible surface (base URL ending in /v1)."""

    name = "openai"
    upstream = "openai"
    strip_prefix = "/v1"

    def stream_requested(self, op: str, body: dict[str, Any]) -> bool:
        return bool(body.get("stream"))

    def conversation_seed(self, op: str, body: dict[str, Any]) -> Any:
        return None

    def restore_json(self, op: str, body: Any, text: TextRestore) -> Any:
        return restore_strings(body, text)

    def stream_restorer(self, op: str, held: Held, text: TextRestore) -> EventRestorer:
        return ChoiceChunks(text)

    def turns(self, op: str, body: dict[str, Any]) -> list[Turn]:
        raise BadRequest(
            f"the local and collaborative modes answer /v1/chat/completions only, not {op}; "
            "use redact mode for this route"
        )

    async def render(self, op: str, body: dict[str, Any], answer: Answer, model: str) -> Reply:
        raise BadRequest(
            f"the local and collaborative modes answer /v1/chat/completions only, not {op}; "
            "use redact mode for this route"
        )
