"""Restores placeholders in an Anthropic Messages event stream, holding back per block.

Each content block (`index`) has its own hold-back buffer: `text_delta.text` as plain text,
`input_json_delta.partial_json` JSON-escaped (a placeholder may span events); a citation's
quoted text is restored whole. Thinking and signature deltas pass untouched, as do events
with nothing to restore (the relay then sends their original bytes). The text blocks of one
answer share one URL context (an app joins them), from the text a `content_block_start`
already carries on. A block event whose `index` is not an integer ends the stream with an
error event: cogate cannot tell which block it continues.
"""

from __future__ import annotations

from typing import Any

from cogate.core.errors import UpstreamUnreachable
from cogate.core.surface import Held, SSEEvent, TextRestore

# Streamed field per delta type: (field, hold-back kind, JSON-escaped).
DELTAS = {
    "text_delta": ("text", "text", False),
    "input_json_delta": ("partial_json", "json", True),
}
CITED = ("cited_text", "document_title", "title")
# The lane of the text blocks of one answer (core.surface.Held): each continues the last.
TEXT_LANE = ("text",)
BLOCK_EVENTS = ("content_block_start", "content_block_delta", "content_block_stop")


def block_index(data: dict[str, Any]) -> int:
    """A block event's `index`; anything but an integer ends the stream with an error."""
    index = data.get("index")
    if isinstance(index, int) and not isinstance(index, bool):
        return index
    raise UpstreamUnreachable(
        f"the upstream sent a {data.get('type')} event whose `index` is not an integer, so "
        "cogate cannot tell which content block it belongs to; the stream was ended",
        code="upstream_bad_event",
    )


def restore_citation(citation: Any, text: TextRestore) -> Any:
    if not isinstance(citation, dict):
        return citation
    out = dict(citation)
    for key in CITED:
        if isinstance(out.get(key), str):
            out[key] = text.restore(out[key])
    return out


def restore_error(body: Any, text: TextRestore) -> Any:
    """An Anthropic error object with its message restored (the rest unchanged)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return body
    restored = text.restore(error["message"])
    if restored == error["message"]:
        return body
    return {**body, "error": {**error, "message": restored}}


class MessagesStreamRestorer:
    """The `EventRestorer` of one streamed Messages answer."""

    def __init__(self, held: Held, text: TextRestore) -> None:
        self.held = held
        self.text = text
        self.open: set[tuple[int, str]] = set()  # (index, kind) that may hold text

    def feed(self, event: SSEEvent) -> list[SSEEvent]:
        data = event.data
        if not isinstance(data, dict):
            return [event]
        kind = data.get("type")
        index = block_index(data) if kind in BLOCK_EVENTS else None
        if kind == "content_block_delta":
            return [self._delta(event, data)]
        if kind == "content_block_stop":
            return [*self._flush(index), event]
        if kind in ("message_delta", "message_stop"):
            return [*self._flush(None), event]
        if kind == "content_block_start":
            return [self._start(event, data)]
        if kind == "error":
            restored = restore_error(data, self.text)
            return [event if restored is data else SSEEvent(event.name, restored)]
        return [event]  # message_start, ping, anything new

    def finish(self) -> list[SSEEvent]:
        """Flush held text when the stream ended without closing its blocks."""
        return self._flush(None)

    def _start(self, event: SSEEvent, data: dict[str, Any]) -> SSEEvent:
        """A text block's opening text goes through the block's hold-back like its deltas:
        a URL it begins continues in them."""
        block = data.get("content_block")
        if not isinstance(block, dict):
            return event
        if block.get("type") == "text" and isinstance(block.get("text"), str) and block["text"]:
            key = (data["index"], "text")
            released = self.held.release(
                key, block["text"], final=False, json_escape=False, lane=TEXT_LANE
            )
            self.open.add(key)
            if released != block["text"]:
                return SSEEvent(event.name, {**data, "content_block": {**block, "text": released}})
        return event

    def _delta(self, event: SSEEvent, data: dict[str, Any]) -> SSEEvent:
        delta = data.get("delta")
        index = data["index"]
        if not isinstance(delta, dict):
            return event
        kind = delta.get("type")
        if kind == "citations_delta":
            restored = restore_citation(delta.get("citation"), self.text)
            if restored == delta.get("citation"):
                return event
            return SSEEvent(event.name, {**data, "delta": {**delta, "citation": restored}})
        if kind not in DELTAS or not isinstance(delta.get(DELTAS[kind][0]), str):
            return event  # thinking_delta, signature_delta, anything new: untouched
        field, hold, escape = DELTAS[kind]
        key = (index, hold)
        piece = delta[field]
        was_held = self.held.holds(key)
        lane = TEXT_LANE if hold == "text" else None
        released = self.held.release(key, piece, final=False, json_escape=escape, lane=lane)
        self.open.add(key)
        if released == piece and not was_held and not self.held.holds(key):
            return event
        return SSEEvent(event.name, {**data, "delta": {**delta, field: released}})

    def _flush(self, index: Any) -> list[SSEEvent]:
        out = []
        for key in sorted(self.open, key=repr):
            if index is not None and key[0] != index:
                continue
            self.open.discard(key)
            if not self.held.holds(key):
                continue
            escape = key[1] == "json"
            lane = None if escape else TEXT_LANE
            rest = self.held.release(key, "", final=True, json_escape=escape, lane=lane)
            if rest:
                delta = (
                    {"type": "input_json_delta", "partial_json": rest}
                    if escape
                    else {"type": "text_delta", "text": rest}
                )
                payload = {"type": "content_block_delta", "index": key[0], "delta": delta}
                out.append(SSEEvent("content_block_delta", payload))
        return out
