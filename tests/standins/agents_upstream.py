#!/usr/bin/env python3
"""(cogate's tests: the answer text may hold `{echo}`, replaced by the placeholders the
request carries, so a test can see the gateway restore them.)

Recording stand-in upstream for OpenAI (Responses / Chat Completions / Models)
and Anthropic (Messages / count_tokens) APIs.  Stdlib only, loopback only.

Usage:
    python3 standin.py [--port 0] [--log requests.jsonl] [--port-file FILE]
                       [--text "answer"] [--fail-first N --fail-status 529]
                       [--scenario text|tool]

Env equivalents: STANDIN_PORT, STANDIN_LOG, STANDIN_PORT_FILE, STANDIN_TEXT,
STANDIN_FAIL_FIRST, STANDIN_FAIL_STATUS, STANDIN_SCENARIO.

On start it prints one line "LISTENING <port>" to stdout (and writes the port
to --port-file if given).  Every request is appended to the JSONL log as
{"seq","ts","method","path","query","headers","body"|"raw_body"} with the
values of authorization / x-api-key / cookie headers redacted.

Answers:
  POST /v1/responses             SSE if body.stream else JSON (Responses API)
  POST /v1/chat/completions      SSE if body.stream else JSON
  GET  /v1/models                OpenAI-style list (+ Codex-style "models" key)
  POST /v1/messages              SSE if body.stream else JSON (Anthropic)
  POST /v1/messages/count_tokens {"input_tokens": N}
  HEAD anything                  200, empty (Claude Code pre-connect probe)
  (any prefix before /v1/ is ignored for routing, e.g. /anthropic/v1/messages)
  anything else                  404 JSON error (still logged)
Structured output: if the request asks for a json_schema format (Anthropic
output_config.format / OpenAI text.format) the answer text is a minimal JSON
instance of the schema.  --scenario tool: the first turn answers with a shell
tool call (Codex exec_command / code-mode `exec` / shell, Claude Code Bash) running
"echo standin-tool-call"; once a tool result is present it answers text.
Fault injection: the first N requests to a model endpoint
(/v1/responses, /v1/chat/completions, /v1/messages) get --fail-status.
"""

import argparse
import contextlib
import gzip
import json
import os
import re
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

REDACT = {"authorization", "x-api-key", "cookie", "proxy-authorization", "chatgpt-account-id"}
MODEL_PATHS = {"/v1/responses", "/v1/chat/completions", "/v1/messages"}


class State:
    def __init__(self, log_path, text, fail_first, fail_status, scenario="text"):
        self.scenario = scenario
        self.log_path = log_path
        self.text = text
        self.fail_left = fail_first
        self.fail_status = fail_status
        self.lock = threading.Lock()
        self.seq = 0

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry = {"seq": self.seq, **entry}
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            return self.seq

    def reply(self, req):
        """The answer text; `{echo}` becomes the placeholders the request carries."""
        found = dict.fromkeys(re.findall(r"\[[A-Z][A-Z_]*_\d+\]", json.dumps(req)))
        return self.text.replace("{echo}", " ".join(found))

    def take_failure(self):
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return True
            return False


def _redact(name, value):
    if name.lower() not in REDACT:
        return value
    if name.lower() in ("authorization", "proxy-authorization") and " " in value:
        return value.split(" ", 1)[0] + " <redacted>"
    return "<redacted>"


def _rough_tokens(obj):
    return max(1, len(json.dumps(obj)) // 4)


def _fill_schema(schema, text, depth=0):
    """Produce a minimal instance of a JSON schema (for structured-output requests)."""
    if not isinstance(schema, dict) or depth > 8:
        return text
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _fill_schema(schema[key][0], text, depth + 1)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        keys = schema.get("required") or list(props)
        return {k: _fill_schema(props.get(k, {}), text, depth + 1) for k in keys}
    if t == "array":
        return []
    if t in ("integer", "number"):
        return 0
    if t == "boolean":
        return False
    if t == "null":
        return None
    return text


TOOL_MARKER = "echo standin-tool-call"


def _chunks(text, n=3):
    words = text.split(" ")
    step = max(1, len(words) // n)
    out = []
    for i in range(0, len(words), step):
        piece = " ".join(words[i : i + step])
        out.append(piece if not out else " " + piece)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cogate-standin/1"
    state: State = None  # set by main

    def log_message(self, fmt, *args):  # quiet; stderr summary only
        sys.stderr.write(f"[standin] {self.command} {self.path}\n")

    # ---------- plumbing ----------
    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline().strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n else b""
        enc = self.headers.get("Content-Encoding", "").lower()
        try:
            if enc == "gzip":
                data = gzip.decompress(data)
            elif enc == "deflate":
                data = zlib.decompress(data)
        except Exception:
            pass
        return data

    def _record(self, raw):
        u = urlsplit(self.path)
        entry = {
            "ts": time.time(),
            "method": self.command,
            "path": u.path,
            "query": parse_qs(u.query),
            "headers": {k: _redact(k, v) for k, v in self.headers.items()},
        }
        body = None
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
                entry["body"] = body
            except Exception:
                entry["raw_body"] = raw[:20000].decode("latin-1")
        self.state.record(entry)
        return u.path, body

    def _send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _start_sse(self, extra=None):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _chunk(self, b):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
        self.wfile.flush()

    def _sse(self, event, data):
        msg = ""
        if event:
            msg += f"event: {event}\n"
        msg += "data: %s\n\n" % (data if isinstance(data, str) else json.dumps(data))
        self._chunk(msg.encode())

    def _end_sse(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ---------- dispatch ----------
    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_HEAD(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def do_OPTIONS(self):
        self._handle()

    def _handle(self):
        raw = self._read_body()
        path, body = self._record(raw)
        if "/v1/" in path:  # tolerate base-URL prefixes such as /anthropic/v1/messages
            path = path[path.index("/v1/") :]
        body = body if isinstance(body, dict) else {}
        if path in MODEL_PATHS and self.command == "POST" and self.state.take_failure():
            st = self.state.fail_status
            if path == "/v1/messages":
                et = {429: "rate_limit_error", 529: "overloaded_error"}.get(st, "api_error")
                return self._send_json(
                    st,
                    {"type": "error", "error": {"type": et, "message": "injected failure"}},
                    {"request-id": "req_fail"},
                )
            return self._send_json(
                st,
                {
                    "error": {
                        "message": "injected failure",
                        "type": "server_error",
                        "code": None,
                        "param": None,
                    }
                },
            )
        try:
            if self.command == "HEAD":  # Claude Code pre-connects with HEAD / ; any status is fine
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.command == "POST" and path == "/v1/responses":
                return self.h_responses(body)
            if self.command == "POST" and path == "/v1/chat/completions":
                return self.h_chat(body)
            if self.command == "GET" and path == "/v1/models":
                return self.h_models()
            if self.command == "POST" and path == "/v1/messages":
                return self.h_messages(body)
            if self.command == "POST" and path == "/v1/messages/count_tokens":
                return self._send_json(200, {"input_tokens": _rough_tokens(body)})
        except (BrokenPipeError, ConnectionResetError):
            return
        self._send_json(
            404,
            {
                "error": {
                    "message": f"standin: no route for {self.command} {path}",
                    "type": "not_found",
                }
            },
        )

    # ---------- OpenAI ----------
    def h_models(self):
        now = int(time.time())
        ids = ["gpt-5", "gpt-5-codex", "gpt-4o", "gpt-4o-mini"]
        self._send_json(
            200,
            {
                "object": "list",
                "data": [
                    {"id": i, "object": "model", "created": now, "owned_by": "standin"} for i in ids
                ],
                "models": [],
            },
        )

    def _openai_plan(self, req):
        """('tool', kind, name, args) or ('text', text)."""
        items = req.get("input") if isinstance(req.get("input"), list) else []
        has_result = any(
            isinstance(i, dict)
            and i.get("type") in ("function_call_output", "custom_tool_call_output")
            for i in items
        )
        kinds = {}

        def collect(tools):
            for t in tools or []:
                if isinstance(t, dict):
                    if t.get("name"):
                        kinds.setdefault(t["name"], t.get("type"))
                    collect(t.get("tools"))

        collect(req.get("tools"))
        for i in items:  # "responses-lite" requests carry tools in an input item
            if isinstance(i, dict) and i.get("type") == "additional_tools":
                collect(i.get("tools"))
        if self.state.scenario == "tool" and not has_result:
            if kinds.get("exec_command") == "function":
                return ("tool", "function", "exec_command", json.dumps({"cmd": TOOL_MARKER}))
            if kinds.get("exec") == "custom":  # code-mode: freeform JavaScript calling nested tools
                cmd = json.dumps(TOOL_MARKER)
                js = f"const r = await tools.exec_command({{cmd: {cmd}}});\ntext(r);"
                return ("tool", "custom", "exec", js)
            if kinds.get("shell") == "function":
                return (
                    "tool",
                    "function",
                    "shell",
                    json.dumps({"command": ["bash", "-lc", TOOL_MARKER]}),
                )
        fmt = (req.get("text") or {}).get("format") or {}
        if fmt.get("type") == "json_schema":
            return ("text", json.dumps(_fill_schema(fmt.get("schema"), self.state.text)))
        return ("text", self.state.reply(req))

    def h_responses(self, req):
        model = req.get("model", "gpt-5")
        rid = "resp_" + uuid.uuid4().hex[:24]
        plan = self._openai_plan(req)
        in_tok = _rough_tokens(req.get("input", ""))
        if plan[0] == "tool":
            iid = ("fc_" if plan[1] == "function" else "ctc_") + uuid.uuid4().hex[:24]
            args = plan[3]
            item_done = {
                "id": iid,
                "type": plan[1] + "_tool_call" if plan[1] == "custom" else "function_call",
                "status": "completed",
                "name": plan[2],
                "call_id": "call_" + uuid.uuid4().hex[:24],
            }
            item_done["input" if plan[1] == "custom" else "arguments"] = args
            text = ""
            out_tok = max(1, len(args) // 4)
        else:
            iid = "msg_" + uuid.uuid4().hex[:24]
            text = plan[1]
            item_done = {
                "id": iid,
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
                ],
            }
            out_tok = max(1, len(text) // 4)
        usage = {
            "input_tokens": in_tok,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out_tok,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": in_tok + out_tok,
        }
        base = {
            "id": rid,
            "object": "response",
            "created_at": int(time.time()),
            "model": model,
            "status": "in_progress",
            "output": [],
            "usage": None,
            "error": None,
            "incomplete_details": None,
            "parallel_tool_calls": True,
            "tools": [],
            "previous_response_id": None,
            "store": req.get("store", False),
        }
        if not req.get("stream"):
            extra = {"output_text": text} if text else {}
            return self._send_json(
                200, {**base, "status": "completed", "output": [item_done], "usage": usage, **extra}
            )
        self._start_sse({"x-request-id": "req_" + uuid.uuid4().hex[:12]})
        n = 0

        def ev(t, **kw):
            nonlocal n
            self._sse(t, {"type": t, "sequence_number": n, **kw})
            n += 1

        ev("response.created", response=base)
        ev("response.in_progress", response=base)
        if plan[0] == "tool" and plan[1] == "custom":
            ev(
                "response.output_item.added",
                output_index=0,
                item={**item_done, "status": "in_progress", "input": ""},
            )
            ev("response.custom_tool_call_input.delta", item_id=iid, output_index=0, delta=args)
            ev("response.custom_tool_call_input.done", item_id=iid, output_index=0, input=args)
        elif plan[0] == "tool":
            ev(
                "response.output_item.added",
                output_index=0,
                item={**item_done, "status": "in_progress", "arguments": ""},
            )
            ev("response.function_call_arguments.delta", item_id=iid, output_index=0, delta=args)
            ev("response.function_call_arguments.done", item_id=iid, output_index=0, arguments=args)
        else:
            ev(
                "response.output_item.added",
                output_index=0,
                item={**item_done, "status": "in_progress", "content": []},
            )
            part0 = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            ev(
                "response.content_part.added",
                item_id=iid,
                output_index=0,
                content_index=0,
                part=part0,
            )
            for piece in _chunks(text):
                ev(
                    "response.output_text.delta",
                    item_id=iid,
                    output_index=0,
                    content_index=0,
                    delta=piece,
                    logprobs=[],
                )
            ev(
                "response.output_text.done",
                item_id=iid,
                output_index=0,
                content_index=0,
                text=text,
                logprobs=[],
            )
            ev(
                "response.content_part.done",
                item_id=iid,
                output_index=0,
                content_index=0,
                part={**part0, "text": text},
            )
        ev("response.output_item.done", output_index=0, item=item_done)
        ev(
            "response.completed",
            response={**base, "status": "completed", "output": [item_done], "usage": usage},
        )
        self._end_sse()

    def h_chat(self, req):
        model = req.get("model", "gpt-4o")
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        text = self.state.text
        created = int(time.time())
        in_tok = _rough_tokens(req.get("messages", ""))
        out_tok = max(1, len(text) // 4)
        usage = {
            "prompt_tokens": in_tok,
            "completion_tokens": out_tok,
            "total_tokens": in_tok + out_tok,
        }
        if not req.get("stream"):
            return self._send_json(
                200,
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
        self._start_sse()

        def chunk(delta, finish=None, **kw):
            self._sse(
                None,
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    **kw,
                },
            )

        chunk({"role": "assistant", "content": ""})
        for piece in _chunks(text):
            chunk({"content": piece})
        chunk({}, "stop")
        if (req.get("stream_options") or {}).get("include_usage"):
            self._sse(
                None,
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                },
            )
        self._sse(None, "[DONE]")
        self._end_sse()

    # ---------- Anthropic ----------
    def _anthropic_plan(self, req):
        msgs = req.get("messages") or []
        has_result = any(
            isinstance(m.get("content"), list)
            and any(isinstance(c, dict) and c.get("type") == "tool_result" for c in m["content"])
            for m in msgs
            if isinstance(m, dict)
        )
        names = {t.get("name") for t in req.get("tools") or []}
        if self.state.scenario == "tool" and not has_result and "Bash" in names:
            return ("tool", "Bash", {"command": TOOL_MARKER, "description": "Print a marker"})
        fmt = (req.get("output_config") or {}).get("format") or {}
        if fmt.get("type") == "json_schema":
            return ("text", json.dumps(_fill_schema(fmt.get("schema"), self.state.text)))
        return ("text", self.state.reply(req))

    def h_messages(self, req):
        model = req.get("model", "claude-sonnet-4-5")
        mid = "msg_" + uuid.uuid4().hex[:24]
        plan = self._anthropic_plan(req)
        in_tok = _rough_tokens({"s": req.get("system"), "m": req.get("messages")})
        if plan[0] == "tool":
            block = {
                "type": "tool_use",
                "id": "toolu_" + uuid.uuid4().hex[:24],
                "name": plan[1],
                "input": plan[2],
            }
            stop = "tool_use"
            out_tok = max(1, len(json.dumps(plan[2])) // 4)
        else:
            block = {"type": "text", "text": plan[1]}
            stop = "end_turn"
            out_tok = max(1, len(plan[1]) // 4)
        hdrs = {
            "request-id": "req_" + uuid.uuid4().hex[:24],
            "anthropic-organization-id": "standin-org",
        }
        usage = {
            "input_tokens": in_tok,
            "output_tokens": out_tok,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if not req.get("stream"):
            return self._send_json(
                200,
                {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [block],
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": usage,
                },
                hdrs,
            )
        self._start_sse(hdrs)
        self._sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {**usage, "output_tokens": 1},
                },
            },
        )
        if plan[0] == "tool":
            self._sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {**block, "input": {}},
                },
            )
            self._sse("ping", {"type": "ping"})
            self._sse(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": json.dumps(plan[2])},
                },
            )
        else:
            self._sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            self._sse("ping", {"type": "ping"})
            for piece in _chunks(plan[1]):
                self._sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
        self._sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        self._sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": out_tok},
            },
        )
        self._sse("message_stop", {"type": "message_stop"})
        self._end_sse()


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("STANDIN_PORT", "0")))
    ap.add_argument("--log", default=os.environ.get("STANDIN_LOG"))
    ap.add_argument("--port-file", default=os.environ.get("STANDIN_PORT_FILE"))
    ap.add_argument(
        "--text",
        default=os.environ.get(
            "STANDIN_TEXT", "STANDIN-OK: Hi Maria, the Q3 report is ready for your review."
        ),
    )
    ap.add_argument(
        "--fail-first", type=int, default=int(os.environ.get("STANDIN_FAIL_FIRST", "0"))
    )
    ap.add_argument(
        "--fail-status", type=int, default=int(os.environ.get("STANDIN_FAIL_STATUS", "500"))
    )
    ap.add_argument(
        "--scenario",
        choices=["text", "tool"],
        default=os.environ.get("STANDIN_SCENARIO", "text"),
        help="tool: first turn answers with a shell tool call (exec_command/shell for Codex, "
        f"Bash for Claude Code) running '{TOOL_MARKER}'; after the tool result it answers text",
    )
    a = ap.parse_args()
    Handler.state = State(a.log, a.text, a.fail_first, a.fail_status, a.scenario)
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file, "w") as f:
            f.write(str(port))
    print(f"LISTENING {port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        srv.serve_forever()


if __name__ == "__main__":
    main()
