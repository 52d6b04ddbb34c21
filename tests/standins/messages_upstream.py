"""A stand-in for api.anthropic.com: the Messages protocol on top of a real llama.cpp model.

Answers `POST /v1/messages` (JSON and SSE, tool use, thinking blocks) and
`/v1/messages/count_tokens` by calling `python -m llama_cpp.server`. Like Anthropic it signs
the thinking blocks it writes and rejects (400) a request whose thinking block came back
changed. It records every request it receives: path, headers and the raw body bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .serving import serving

JSON_PIECE = 7  # tool input is streamed in small pieces, so values span events


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class MessagesUpstream(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, llama: str) -> None:
        self.llama = llama.rstrip("/")  # …/v1
        self.key = secrets.token_bytes(32)
        self.received: list[Received] = []
        self.sent: list[bytes] = []  # JSON answer bodies, as sent
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def sign(self, thinking: str) -> str:
        mac = hmac.new(self.key, thinking.encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode()

    def redacted(self) -> str:
        return base64.b64encode(hmac.new(self.key, b"redacted", hashlib.sha256).digest()).decode()

    def chat(self, messages: list[dict[str, str]], **options: Any) -> dict[str, Any]:
        reply = httpx.post(
            f"{self.llama}/chat/completions",
            json={"messages": messages, **options},
            timeout=300,
            trust_env=False,
        )
        reply.raise_for_status()
        return reply.json()

    def chat_stream(self, messages: list[dict[str, str]], **options: Any) -> Iterator[str]:
        body = {"messages": messages, "stream": True, **options}
        with httpx.stream(
            "POST", f"{self.llama}/chat/completions", json=body, timeout=300, trust_env=False
        ) as reply:
            for line in reply.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choices = json.loads(line[6:]).get("choices") or [{}]
                piece = (choices[0].get("delta") or {}).get("content")
                if piece:
                    yield piece

    def count(self, text: str) -> int:
        base = self.llama.removesuffix("/v1")
        reply = httpx.post(
            f"{base}/extras/tokenize/count", json={"input": text}, timeout=60, trust_env=False
        )
        reply.raise_for_status()
        return int(reply.json()["count"])


class BadRequest(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def flatten(body: dict[str, Any]) -> list[dict[str, str]]:
    """The conversation as chat messages for llama.cpp (thinking left out)."""
    out = []
    system = body.get("system")
    if isinstance(system, list):
        system = "\n".join(b.get("text", "") for b in system)
    if system:
        out.append({"role": "system", "content": system})
    for message in body.get("messages", []):
        content = message["content"]
        if isinstance(content, list):
            parts = []
            for block in content:
                if block.get("type") == "text":
                    parts.append(block["text"])
                elif block.get("type") == "tool_use":
                    parts.append(f"(called {block['name']} with {json.dumps(block['input'])})")
                elif block.get("type") == "tool_result":
                    inner = block.get("content")
                    if isinstance(inner, list):
                        inner = "\n".join(b.get("text", "") for b in inner)
                    parts.append(f"(tool result: {inner})")
            content = "\n".join(parts)
        out.append({"role": message["role"], "content": content})
    return out


def verify_thinking(server: MessagesUpstream, body: dict[str, Any]) -> None:
    """Anthropic rejects a thinking block that is not exactly what it produced."""
    for i, message in enumerate(body.get("messages", [])):
        if not isinstance(message.get("content"), list):
            continue
        for j, block in enumerate(message["content"]):
            where = f"messages.{i}.content.{j}"
            if block.get("type") == "thinking":
                if not hmac.compare_digest(
                    server.sign(block.get("thinking", "")), block.get("signature", "")
                ):
                    raise BadRequest(
                        400,
                        "invalid_request_error",
                        f"{where}: Invalid `signature` in `thinking` block",
                    )
            elif (
                block.get("type") == "redacted_thinking" and block.get("data") != server.redacted()
            ):
                raise BadRequest(
                    400, "invalid_request_error", f"{where}: Invalid redacted thinking"
                )


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(flatten(body)):
        if message["role"] == "user":
            return message["content"]
    return ""


def forced_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    choice = body.get("tool_choice") or {}
    tools = body.get("tools") or []
    if choice.get("type") == "tool":
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    if choice.get("type") == "any" and tools:
        return tools[0]
    return None


class _Handler(http.server.BaseHTTPRequestHandler):
    server: MessagesUpstream
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
            )
        try:
            if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
                raise BadRequest(401, "authentication_error", "x-api-key header is required")
            body = json.loads(raw)
            if path == "/v1/messages/count_tokens":
                text = json.dumps(flatten(body)) + json.dumps(body.get("tools") or [])
                return self._json(200, {"input_tokens": self.server.count(text)})
            if path != "/v1/messages":
                raise BadRequest(404, "not_found_error", f"no route {path}")
            self._special(body)
            verify_thinking(self.server, body)
            if body.get("stream"):
                return self._stream(body)
            return self._json(200, self._message(body))
        except BadRequest as exc:
            headers = {"retry-after": "7"} if exc.status == 429 else {}
            error = {"type": "error", "error": {"type": exc.kind, "message": exc.message}}
            return self._json(exc.status, error, headers)

    def _special(self, body: dict[str, Any]) -> None:
        """Models that make the stand-in answer with an error, for pass-through tests."""
        if body.get("model") == "error-429":
            raise BadRequest(
                429, "rate_limit_error", "Number of requests has exceeded your rate limit"
            )
        if body.get("model") == "echo-error":
            raise BadRequest(400, "invalid_request_error", f"cannot answer: {last_user_text(body)}")

    def _thinking(self, body: dict[str, Any]) -> dict[str, Any] | None:
        if (body.get("thinking") or {}).get("type") != "enabled":
            return None
        # Written from the conversation it was given (sanitized): it holds placeholders.
        text = f"The user wrote: {last_user_text(body)[:120]} / I should answer briefly."
        return {"type": "thinking", "thinking": text, "signature": self.server.sign(text)}

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        thinking = self._thinking(body)
        if thinking:
            content.append(thinking)
        options = {"max_tokens": min(int(body.get("max_tokens", 64)), 64), "temperature": 0}
        tool = forced_tool(body)
        if tool is not None:
            options["max_tokens"] = 160  # room for the whole JSON object
            schema = tool.get("input_schema") or {"type": "object"}
            answer = self.server.chat(
                flatten(body), response_format={"type": "json_object", "schema": schema}, **options
            )
            arguments = json.loads(answer["choices"][0]["message"]["content"])
            content.append(
                {
                    "type": "tool_use",
                    "id": "toolu_" + secrets.token_hex(8),
                    "name": tool["name"],
                    "input": arguments,
                }
            )
            stop = "tool_use"
        else:
            answer = self.server.chat(flatten(body), **options)
            content.append({"type": "text", "text": answer["choices"][0]["message"]["content"]})
            stop = "max_tokens" if answer["choices"][0]["finish_reason"] == "length" else "end_turn"
        usage = answer.get("usage") or {}
        return {
            "id": "msg_" + secrets.token_hex(12),
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
            },
        }

    def _headers(self, status: int, kind: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("request-id", "req_" + secrets.token_hex(12))
        for name, value in (extra or {}).items():
            self.send_header(name, value)

    def _json(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        with self.server.lock:
            self.server.sent.append(data)
        self._headers(status, "application/json", extra)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _event(self, name: str, data: dict[str, Any]) -> None:
        payload = json.dumps({"type": name, **data}).encode()
        chunk = b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.flush()

    def _stream(self, body: dict[str, Any]) -> None:
        self._headers(200, "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        message = {
            "id": "msg_" + secrets.token_hex(12),
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        self._event("message_start", {"message": message})
        self._event("ping", {})
        index, stop, produced = 0, "end_turn", 0
        thinking = self._thinking(body)
        if thinking:
            self._event(
                "content_block_start",
                {"index": 0, "content_block": {**thinking, "thinking": "", "signature": ""}},
            )
            text = thinking["thinking"]
            for at in range(0, len(text), 16):
                self._event(
                    "content_block_delta",
                    {
                        "index": 0,
                        "delta": {"type": "thinking_delta", "thinking": text[at : at + 16]},
                    },
                )
            self._event(
                "content_block_delta",
                {
                    "index": 0,
                    "delta": {"type": "signature_delta", "signature": thinking["signature"]},
                },
            )
            self._event("content_block_stop", {"index": 0})
            index = 1
        options = {"max_tokens": min(int(body.get("max_tokens", 64)), 64), "temperature": 0}
        tool = forced_tool(body)
        if tool is not None:
            stop = "tool_use"
            options["max_tokens"] = 160
            start = {
                "type": "tool_use",
                "id": "toolu_" + secrets.token_hex(8),
                "name": tool["name"],
                "input": {},
            }
            self._event("content_block_start", {"index": index, "content_block": start})
            schema = tool.get("input_schema") or {"type": "object"}
            answer = self.server.chat(
                flatten(body), response_format={"type": "json_object", "schema": schema}, **options
            )
            arguments = json.dumps(json.loads(answer["choices"][0]["message"]["content"]))
            for at in range(0, len(arguments), JSON_PIECE):
                piece = arguments[at : at + JSON_PIECE]
                self._event(
                    "content_block_delta",
                    {"index": index, "delta": {"type": "input_json_delta", "partial_json": piece}},
                )
            produced = (answer.get("usage") or {}).get("completion_tokens", 0)
        else:
            self._event(
                "content_block_start",
                {"index": index, "content_block": {"type": "text", "text": ""}},
            )
            for piece in self.server.chat_stream(flatten(body), **options):
                produced += 1
                self._event(
                    "content_block_delta",
                    {"index": index, "delta": {"type": "text_delta", "text": piece}},
                )
        self._event("content_block_stop", {"index": index})
        self._event(
            "message_delta",
            {
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": produced},
            },
        )
        self._event("message_stop", {})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


@contextmanager
def messages_upstream(llama: str) -> Iterator[MessagesUpstream]:
    """The stand-in on a free loopback port, serving until the block ends."""
    with serving(MessagesUpstream(llama)) as server:
        yield server
