"""Chat Completions chunk streams restored: placeholders put back in each choice's content and
tool-call arguments, holding back only a possible placeholder prefix per field."""

from __future__ import annotations

from typing import Any

from cogate.policies.restore import HeldText, TextRestorer

# Text fields of streamed chunks (chat deltas, tool-call argument deltas, completions text).
_DELTA_TEXT = ("content", "reasoning_content", "reasoning", "refusal")


class ChatStreamRestorer:
    """Restores SSE chunk objects; holds back only a possible placeholder prefix per field."""

    def __init__(self, text: TextRestorer) -> None:
        self.held = HeldText(text)
        self.pending = self.held.pending
        self.last_event: dict[str, Any] | None = None

    def _release(self, key: tuple, piece: str, *, final: bool, json_escape: bool) -> str:
        return self.held.release(key, piece, final=final, json_escape=json_escape)

    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        self.last_event = event
        choices = event.get("choices")
        if not isinstance(choices, list):
            return [event]
        out = dict(event)
        out["choices"] = [self._choice(choice) for choice in choices]
        return [out]

    def _choice(self, choice: Any) -> Any:
        if not isinstance(choice, dict):
            return choice
        index = choice.get("index", 0)
        final = choice.get("finish_reason") is not None
        choice = dict(choice)
        if isinstance(choice.get("text"), str):  # completions
            choice["text"] = self._release(
                (index, "text"), choice["text"], final=final, json_escape=False
            )
        elif final and (index, "text") in self.pending:
            choice["text"] = self._release((index, "text"), "", final=True, json_escape=False)
        delta = choice.get("delta")
        if isinstance(delta, dict):
            choice["delta"] = self._delta(index, dict(delta), final)
        elif final and any(k[0] == index and k[1] != "text" for k in self.pending):
            choice["delta"] = self._delta(index, {}, final)
        return choice

    def _delta(self, index: int, delta: dict[str, Any], final: bool) -> dict[str, Any]:
        for name in _DELTA_TEXT:
            if isinstance(delta.get(name), str) or (final and (index, name) in self.pending):
                released = self._release(
                    (index, name), delta.get(name) or "", final=final, json_escape=False
                )
                if released or name in delta:
                    delta[name] = released
        calls = delta.get("tool_calls")
        if isinstance(calls, list):
            delta["tool_calls"] = [self._tool_call(index, call, final) for call in calls]
        elif final:
            flushed = self._flush_tool_calls(index)
            if flushed:
                delta["tool_calls"] = flushed
        call = delta.get("function_call")
        if isinstance(call, dict) and isinstance(call.get("arguments"), str):
            call = dict(call)
            call["arguments"] = self._release(
                (index, "function_call"), call["arguments"], final=final, json_escape=True
            )
            delta["function_call"] = call
        elif final and (index, "function_call") in self.pending:
            delta["function_call"] = {
                "arguments": self._release(
                    (index, "function_call"), "", final=True, json_escape=True
                )
            }
        return delta

    def _tool_call(self, index: int, call: Any, final: bool) -> Any:
        if not isinstance(call, dict):
            return call
        call = dict(call)
        function = call.get("function")
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            function = dict(function)
            key = (index, "tool", call.get("index", 0))
            function["arguments"] = self._release(
                key, function["arguments"], final=final, json_escape=True
            )
            call["function"] = function
        return call

    def _flush_tool_calls(self, index: int) -> list[dict[str, Any]]:
        calls = []
        for key in sorted(k for k in self.pending if k[:2] == (index, "tool")):
            arguments = self._release(key, "", final=True, json_escape=True)
            calls.append({"index": key[2], "function": {"arguments": arguments}})
        return calls

    def finish(self) -> list[dict[str, Any]]:
        """Flush whatever is still held (a stream that ended without finish_reason)."""
        if not self.pending:
            return []
        by_choice: dict[int, dict[str, Any]] = {}
        for key in sorted(self.pending, key=repr):
            index, kind = key[0], key[1]
            choice = by_choice.setdefault(index, {"index": index})
            if kind == "text":
                choice["text"] = self._release(key, "", final=True, json_escape=False)
            elif kind == "tool":
                arguments = self._release(key, "", final=True, json_escape=True)
                delta = choice.setdefault("delta", {})
                delta.setdefault("tool_calls", []).append(
                    {"index": key[2], "function": {"arguments": arguments}}
                )
            elif kind == "function_call":
                arguments = self._release(key, "", final=True, json_escape=True)
                choice.setdefault("delta", {})["function_call"] = {"arguments": arguments}
            else:
                choice.setdefault("delta", {})[kind] = self._release(
                    key, "", final=True, json_escape=False
                )
        event = {
            k: v
            for k, v in (self.last_event or {}).items()
            if k in ("id", "object", "created", "model")
        }
        event["choices"] = [by_choice[i] for i in sorted(by_choice)]
        return [event]
