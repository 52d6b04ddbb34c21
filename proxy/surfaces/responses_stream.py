"""Restores placeholders in a Responses event stream, event by event.

Deltas are restored incrementally per (item_id, output_index, content_index, field), holding
back only a tail that could still become a placeholder. No event is invented or merged: a
delta event that leaves text held is kept back until the next event, so the held tail can
be appended to it when its `.done` snapshot arrives. Snapshots, envelopes and the `error`
event are restored whole, so the deltas, `.done` and `response.completed` agree.

The text of all parts and items of one answer is one lane (core.surface.Held): each part
continues the URL context of the one before, since an app joins them. A part's snapshot
(`.done`, `content_part.done`, `output_item.done`) is restored in the context its deltas
began in, so it keeps what they kept. An index that is not an integer ends the stream with
an error event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cogate.core.errors import UpstreamUnreachable
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


# The streamed fields that are the answer's text, read as one: each continues the last.
TEXT_LANE = ("text",)
PROSE_PREFIXES = frozenset(
    (
        "response.output_text",
        "response.refusal",
        "response.reasoning_text",
        "response.reasoning_summary_text",
    )
)
# A content part's type -> (the delta events' prefix, the part's text field)
PARTS = {
    "output_text": ("response.output_text", "text"),
    "refusal": ("response.refusal", "refusal"),
    "reasoning_text": ("response.reasoning_text", "text"),
    "summary_text": ("response.reasoning_summary_text", "text"),
}
PART_EVENTS = ("response.content_part", "response.reasoning_summary_part")
INDEXES = ("output_index", "content_index", "summary_index")


def _lane(prefix: str) -> tuple | None:
    return TEXT_LANE if prefix in PROSE_PREFIXES else None


def checked(data: dict[str, Any]) -> dict[str, Any]:
    """The event, once its indexes are integers (or absent) and its item id a string."""
    bad = [k for k in INDEXES if k in data and not _is_index(data[k])]
    if "item_id" in data and not isinstance(data["item_id"], str | None):
        bad.append("item_id")
    if bad:
        raise UpstreamUnreachable(
            f"the upstream sent a {data.get('type')} event whose `{bad[0]}` is malformed, so "
            "cogate cannot tell which text it continues; the stream was ended",
            code="upstream_bad_event",
        )
    return data


def _is_index(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


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
        kind = str(checked(data).get("type") or event.name or "")
        prefix, suffix = _split(kind)
        spec = STREAMED.get(prefix)
        if spec is not None and suffix == "delta" and isinstance(data.get("delta"), str):
            return self._delta(event, data, spec)
        if spec is not None and suffix == "done":
            return self._done(event, data, spec)
        out = self._flush_waiting()
        if prefix in PART_EVENTS and isinstance(data.get("part"), dict):
            index = data.get("summary_index", data.get("content_index"))
            where = (data.get("item_id"), data.get("output_index"))
            part = self._part(data["part"], where, index)
            rest = restore_node({k: v for k, v in data.items() if k != "part"}, self.text)
            return [*out, SSEEvent(event.name, {**rest, "part": part})]
        if prefix == "response.output_item" and isinstance(data.get("item"), dict):
            item = self._item(data["item"], data.get("output_index"))
            return [*out, SSEEvent(event.name, {**data, "item": item})]
        return [*out, SSEEvent(event.name, restore_node(data, self.text))]

    def _part(self, part: dict[str, Any], where: tuple, index: Any) -> dict[str, Any]:
        """A content part's snapshot: its text as its deltas were restored."""
        prefix, field = PARTS.get(str(part.get("type")), ("", ""))
        whole = part.get(field)
        if not prefix or not isinstance(whole, str):
            return restore_node(part, self.text)
        out = restore_node({k: v for k, v in part.items() if k != field}, self.text)
        key = (*where, index, prefix)
        out[field] = self.held.snapshot(key, whole, json_escape=False, lane=_lane(prefix))
        return {k: out[k] for k in part}

    def _item(self, item: dict[str, Any], output_index: Any) -> dict[str, Any]:
        """An output item's snapshot: message and reasoning parts as their deltas were."""
        where = (item.get("id"), output_index)
        lists = {
            name: [
                self._part(p, where, i) if isinstance(p, dict) else p
                for i, p in enumerate(item[name])
            ]
            for name in ("content", "summary")
            if isinstance(item.get(name), list)
        }
        rest = restore_node({k: v for k, v in item.items() if k not in lists}, self.text)
        return {k: lists[k] if k in lists else rest[k] for k in item}

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
        piece = self.held.release(
            key, data["delta"], final=False, json_escape=spec.json_escape, lane=_lane(key[3])
        )
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
        lane = _lane(key[3])
        tail = self.held.release(key, "", final=True, json_escape=spec.json_escape, lane=lane)
        if self.waiting is not None:
            last = self.waiting[1]
            out.append(SSEEvent(last.name, {**last.data, "delta": last.data["delta"] + tail}))
            self.waiting = None
        restored = dict(data)
        whole = data.get(spec.done_field)
        if isinstance(whole, str):
            restored[spec.done_field] = self.held.snapshot(
                key, whole, json_escape=spec.json_escape, lane=lane
            )
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
        tail = self.held.release(key, "", final=True, json_escape=escape, lane=_lane(key[3]))
        return [SSEEvent(last.name, {**last.data, "delta": last.data["delta"] + tail})]
