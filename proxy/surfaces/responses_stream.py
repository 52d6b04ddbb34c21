"""Restores placeholders in a Responses event stream, event by event.

Deltas are restored incrementally per (item_id, output_index, content_index, field), holding
back only a tail that could still become a placeholder. No event is invented or merged: a
delta event that leaves text held is kept back until the next event, so the held tail can
be appended to it when its `.done` snapshot arrives. Snapshots, envelopes and the `error`
event are restored whole, so the deltas, `.done` and `response.completed` agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cogate.core.surface import Held, SSEEvent, TextRestore

from .responses_json import restore_node


@dataclass(frozen=True)
class Streamed:
    """One streamed text field: its delta/done event names and where the snapshot is."""

    done_field: str
    json_escape: bool = False
    index_field: str = "content_index"


# event type prefix -> the field of the `.done` event that holds the whole text
STREAMED = {
    "response.output_text": Streamed("text"),
    "response.refusal": Streamed("refusal"),
    "response.reasoning_text": Streamed("text"),
    "response.reasoning_summary_text": Streamed("text", index_field="summary_index"),
    "response.function_call_arguments": Streamed("arguments", json_escape=True),
    "response.mcp_call_arguments": Streamed("arguments", json_escape=True),
    "response.custom_tool_call_input": Streamed("input"),
    "response.code_interpreter_call_code": Streamed("code"),
}


def _split(kind: str) -> tuple[str, str]:
    prefix, _, suffix = kind.rpartition(".")
    return prefix, suffix


class ResponsesEventRestorer:
    """The `EventRestorer` of one Responses stream."""

    def __init__(self, held: Held, text: TextRestore) -> None:
        self.held = held
        self.text = text
        # The delta event whose text is partly held, and the key it holds under.
        self.waiting: tuple[tuple, SSEEvent] | None = None

    def feed(self, event: SSEEvent) -> list[SSEEvent]:
        data = event.data
        if not isinstance(data, dict):
            return [*self._flush_waiting(), event]
        kind = str(data.get("type") or event.name or "")
        prefix, suffix = _split(kind)
        spec = STREAMED.get(prefix)
        if spec is not None and suffix == "delta" and isinstance(data.get("delta"), str):
            return self._delta(event, data, spec)
        if spec is not None and suffix == "done":
            return self._done(event, data, spec)
        out = self._flush_waiting()
        return [*out, SSEEvent(event.name, restore_node(data, self.text))]

    def finish(self) -> list[SSEEvent]:
        """The stream ended: whatever is held belongs to the app."""
        return self._flush_waiting()

    def _key(self, data: dict[str, Any], spec: Streamed) -> tuple:
        prefix = _split(str(data.get("type", "")))[0]
        return (
            data.get("item_id"),
            data.get("output_index"),
            data.get(spec.index_field),
            prefix,
        )

    def _delta(self, event: SSEEvent, data: dict[str, Any], spec: Streamed) -> list[SSEEvent]:
        key = self._key(data, spec)
        out = self._flush_waiting(unless=key)
        piece = self.held.release(key, data["delta"], final=False, json_escape=spec.json_escape)
        restored = SSEEvent(event.name, {**data, "delta": piece})
        if self.waiting is not None:  # the previous delta of this field goes out as it is
            out.append(self.waiting[1])
            self.waiting = None
        if self.held.holds(key):
            self.waiting = (key, restored)
        else:
            out.append(restored)
        return out

    def _done(self, event: SSEEvent, data: dict[str, Any], spec: Streamed) -> list[SSEEvent]:
        key = self._key(data, spec)
        out = self._flush_waiting(unless=key)
        tail = self.held.release(key, "", final=True, json_escape=spec.json_escape)
        if self.waiting is not None:
            last = self.waiting[1]
            out.append(SSEEvent(last.name, {**last.data, "delta": last.data["delta"] + tail}))
            self.waiting = None
        restored = dict(data)
        whole = data.get(spec.done_field)
        if isinstance(whole, str):
            restored[spec.done_field] = self.text.restore(whole, json_escape=spec.json_escape)
        for name, value in data.items():
            if name != spec.done_field and isinstance(value, dict | list):
                restored[name] = restore_node(value, self.text)
        out.append(SSEEvent(event.name, restored))
        return out

    def _flush_waiting(self, unless: tuple | None = None) -> list[SSEEvent]:
        """Release a kept-back delta before an event of another field goes out; its tail is
        final then (a placeholder cannot continue across another field's events)."""
        if self.waiting is None or self.waiting[0] == unless:
            return []
        key, last = self.waiting
        self.waiting = None
        escape = STREAMED[key[3]].json_escape
        tail = self.held.release(key, "", final=True, json_escape=escape)
        return [SSEEvent(last.name, {**last.data, "delta": last.data["delta"] + tail})]
