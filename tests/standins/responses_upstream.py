"""A stand-in OpenAI Responses upstream on top of a real model (llama.cpp's server).

Implements the parts of the Responses protocol cogate forwards: `POST /v1/responses`
(JSON and SSE, `previous_response_id`, `store`, function tools), `input_tokens`, `compact`,
`GET`/`DELETE /v1/responses/{id}` and `input_items`. Text comes from the model through
`/v1/chat/completions`; a function call's arguments are written by the model under the
tool's JSON schema. Every request body it receives is recorded, so tests can prove that
no private value reached it.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from .serving import serving


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(
        p.get("text", "") for p in content or [] if isinstance(p, dict) and "text" in p
    )


def chat_messages(items: list[dict[str, Any]], instructions: str | None) -> list[dict[str, str]]:
    """Responses input items as chat messages the model's template knows."""
    out = [{"role": "system", "content": instructions}] if instructions else []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            role = "system" if item.get("role") == "developer" else item.get("role", "user")
            out.append({"role": role, "content": _text_of(item.get("content"))})
        elif kind == "function_call":
            out.append(
                {"role": "assistant", "content": f"Call {item['name']}({item['arguments']})"}
            )
        elif kind == "function_call_output":
            output = item.get("output")
            out.append({"role": "user", "content": f"Tool result: {_text_of(output)}"})
    return out


class Upstream(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, model_url: str) -> None:
        self.model_url = model_url.rstrip("/")
        self.received: list[dict[str, Any]] = []  # (method, path, body) of every request
        self.stored: dict[str, dict[str, Any]] = {}  # response id -> response
        self.inputs: dict[str, list[dict[str, Any]]] = {}  # response id -> all input items
        self.credentials: list[str | None] = []  # the Authorization of every request
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def seen(self) -> str:
        """Everything the stand-in was sent, as one string to search."""
        with self.lock:
            return json.dumps(self.received, ensure_ascii=False)

    def history(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        items = body.get("input")
        items = [{"role": "user", "content": items}] if isinstance(items, str) else items or []
        previous = body.get("previous_response_id")
        if previous:
            if previous not in self.stored:
                raise KeyError(previous)
            earlier = self.inputs[previous] + self.stored[previous]["output"]
            items = [*earlier, *items]
        return items

    def chat(self, messages: list[dict[str, str]], body: dict[str, Any], **extra: Any) -> Any:
        request = {
            "messages": messages,
            "max_tokens": body.get("max_output_tokens") or 48,
            "temperature": body.get("temperature") or 0,
            **extra,
        }
        return httpx.post(f"{self.model_url}/chat/completions", json=request, timeout=300)


def usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def envelope(body: dict[str, Any], rid: str, status: str) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": body.get("model", "standin"),
        "output": [],
        "instructions": body.get("instructions"),
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": True,
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "previous_response_id": body.get("previous_response_id"),
        "store": body.get("store", True),
        "error": None,
        "incomplete_details": None,
        "usage": None,
        "text": {"format": {"type": "text"}},
    }


def message(text: str, status: str = "completed") -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {
        "id": _id("msg"),
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": [part] if status == "completed" else [],
    }


def wants_tool(body: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The function tool to call now: tools are offered and no tool result came back yet."""
    tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
    answered = any(i.get("type") == "function_call_output" for i in items)
    if not tools or answered or body.get("tool_choice") == "none":
        return None
    return tools[0]


class Handler(http.server.BaseHTTPRequestHandler):
    server: Upstream
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _body(self) -> dict[str, Any]:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.loads(raw) if raw else {}
        with self.server.lock:
            self.server.received.append({"method": self.command, "path": self.path, "body": body})
            self.server.credentials.append(self.headers.get("authorization"))
        return body

    def _json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _missing(self, rid: str) -> None:
        self._json(
            404,
            {
                "error": {
                    "message": f"No response with id '{rid}'.",
                    "type": "invalid_request_error",
                    "code": None,
                    "param": None,
                }
            },
        )

    def do_GET(self) -> None:
        self._body()
        path = self.path.split("?")[0].removeprefix("/v1/responses/")
        rid, _, rest = path.partition("/")
        if rid not in self.server.stored:
            return self._missing(rid)
        if rest == "input_items":
            data = list(reversed(self.server.inputs[rid]))
            return self._json(
                200,
                {
                    "object": "list",
                    "data": data,
                    "has_more": False,
                    "first_id": None,
                    "last_id": None,
                },
            )
        return self._json(200, self.server.stored[rid])

    def do_DELETE(self) -> None:
        self._body()
        rid = self.path.removeprefix("/v1/responses/")
        if self.server.stored.pop(rid, None) is None:
            return self._missing(rid)
        self._json(200, {"id": rid, "object": "response.deleted", "deleted": True})

    def do_POST(self) -> None:
        body = self._body()
        path = self.path.split("?")[0]
        if path in ("/v1/chat/completions", "/v1/completions"):
            return self._relay(path, body)  # OpenAI serves these next to Responses
        try:
            items = self.server.history(body)
        except KeyError as exc:
            return self._missing(str(exc.args[0]))
        if path == "/v1/responses/input_tokens":
            messages = chat_messages(items, body.get("instructions"))
            words = sum(len(m["content"].split()) + 4 for m in messages)
            return self._json(200, {"object": "response.input_tokens", "input_tokens": words})
        if path == "/v1/responses/compact":
            return self._compact(body, items)
        if path != "/v1/responses":
            return self._json(404, {"error": {"message": "unknown path", "type": "x"}})
        self._respond(body, items)

    def _relay(self, path: str, body: dict[str, Any]) -> None:
        """Chat Completions and Completions (the collaboration modes' cloud calls) answered
        by the model server, recorded like every other request."""
        url = self.server.model_url + path.removeprefix("/v1")
        answer = httpx.post(url, json=body, timeout=300)
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers.get("content-type", "application/json"))
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def _compact(self, body: dict[str, Any], items: list[dict[str, Any]]) -> None:
        messages = chat_messages(items, "Summarise this conversation in one sentence.")
        reply = self.server.chat(messages, body).json()
        summary = reply["choices"][0]["message"]["content"] or ""
        kept = [i for i in items if i.get("role") == "user"][-1:]
        out = [*kept, message(summary)]
        use = usage(reply["usage"]["prompt_tokens"], reply["usage"]["completion_tokens"])
        self._json(
            200,
            {
                "id": _id("cmp"),
                "object": "response.compaction",
                "created_at": int(time.time()),
                "output": out,
                "usage": use,
            },
        )

    def _respond(self, body: dict[str, Any], items: list[dict[str, Any]]) -> None:
        rid = _id("resp")
        messages = chat_messages(items, body.get("instructions"))
        tool = wants_tool(body, items)
        if tool is not None:
            schema = tool.get("parameters") or {"type": "object"}
            messages.append(
                {"role": "system", "content": f"Write the JSON arguments for {tool['name']}."}
            )
            reply = self.server.chat(
                messages, body, response_format={"type": "json_object", "schema": schema}
            ).json()
            arguments = reply["choices"][0]["message"]["content"] or "{}"
            output = [
                {
                    "id": _id("fc"),
                    "type": "function_call",
                    "call_id": _id("call"),
                    "name": tool["name"],
                    "arguments": arguments,
                    "status": "completed",
                }
            ]
        else:
            reply = None
        obj = envelope(body, rid, "in_progress")
        if body.get("stream"):
            return self._stream(body, obj, messages, items, output if tool else None)
        if reply is None:
            reply = self.server.chat(messages, body).json()
            output = [message(reply["choices"][0]["message"]["content"] or "")]
        done = {
            **obj,
            "status": "completed",
            "output": output,
            "usage": usage(reply["usage"]["prompt_tokens"], reply["usage"]["completion_tokens"]),
        }
        self._store(body, rid, items, done)
        self._json(200, done)

    def _store(self, body: dict[str, Any], rid: str, items: list, done: dict[str, Any]) -> None:
        if body.get("store", True):
            with self.server.lock:
                self.server.stored[rid] = done
                self.server.inputs[rid] = items

    def _stream(self, body, obj, messages, items, tool_output) -> None:  # noqa: ANN001
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        seq = iter(range(1 << 30))

        def send(kind: str, payload: dict[str, Any]) -> None:
            data = json.dumps({"type": kind, "sequence_number": next(seq), **payload})
            self.wfile.write(f"event: {kind}\ndata: {data}\n\n".encode())
            self.wfile.flush()

        send("response.created", {"response": obj})
        send("response.in_progress", {"response": obj})
        if tool_output is not None:
            output, prompt, completion = tool_output, 0, 0
            item = tool_output[0]
            send(
                "response.output_item.added", {"output_index": 0, "item": {**item, "arguments": ""}}
            )
            where = {"item_id": item["id"], "output_index": 0}
            for i in range(0, len(item["arguments"]), 7):
                send(
                    "response.function_call_arguments.delta",
                    {**where, "delta": item["arguments"][i : i + 7]},
                )
            send(
                "response.function_call_arguments.done",
                {**where, "name": item["name"], "arguments": item["arguments"]},
            )
            send("response.output_item.done", {"output_index": 0, "item": item})
        else:
            output, prompt, completion = self._stream_text(send, body, messages)
        done = {**obj, "status": "completed", "output": output, "usage": usage(prompt, completion)}
        self._store(body, obj["id"], items, done)
        send("response.completed", {"response": done})
        self.close_connection = True

    def _stream_text(self, send, body, messages) -> tuple[list, int, int]:  # noqa: ANN001
        item = message("", "in_progress")
        where = {"item_id": item["id"], "output_index": 0, "content_index": 0}
        send("response.output_item.added", {"output_index": 0, "item": item})
        empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        send("response.content_part.added", {**where, "part": empty})
        request = {
            "messages": messages,
            "max_tokens": body.get("max_output_tokens") or 48,
            "temperature": body.get("temperature") or 0,
            "stream": True,
        }
        pieces = []
        url = f"{self.server.model_url}/chat/completions"
        with httpx.stream("POST", url, json=request, timeout=300) as answer:
            for line in answer.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                piece = (
                    chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
                ) or ""
                if piece:
                    pieces.append(piece)
                    send("response.output_text.delta", {**where, "delta": piece, "logprobs": []})
        text = "".join(pieces)
        send("response.output_text.done", {**where, "text": text, "logprobs": []})
        send("response.content_part.done", {**where, "part": {**empty, "text": text}})
        item = {**message(text), "id": item["id"]}
        send("response.output_item.done", {"output_index": 0, "item": item})
        return [item], 0, len(pieces)


@contextmanager
def responses_upstream(model_url: str) -> Iterator[Upstream]:
    with serving(Upstream(model_url)) as server:
        yield server
