"""Requests that carry a canary at one classified path of a contract, and a recording
stand-in upstream that keeps every body it receives."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cogate.policies.contract import Alt, Arr, Custom, Lazy, Node, Obj, Setting, Union

NAME = "Eleanor Vance"
EMAIL = "eleanor.vance@example.com"
TEXT = f"{NAME} {EMAIL}"  # a name + e-mail string
WORD = "Eleanor_Vance"  # the same name in an identifier's shape (settings, ids)
CARD = 4111111111111111  # a card number as a JSON number
TELLS = ("Vance", EMAIL, str(CARD))


@dataclass
class Sample:
    path: str  # where the canary sits: input[0].content[0].text
    body: dict[str, Any]
    cls: str
    alone: bool  # expected to be refused, or refused as a whole: sent on its own


def steps_of(
    node: Node, prefix: tuple[str, ...] = (), seen: set[int] | None = None
) -> Iterator[tuple[tuple[str, ...], Node]]:
    """Every leaf path; a shared shape (a fragment) is followed at its first place only."""
    seen = set() if seen is None else seen
    if isinstance(node, Lazy | Custom):
        if id(node) in seen:
            return
        seen.add(id(node))
        yield from steps_of(node.node if isinstance(node, Lazy) else node.inner, prefix, seen)
        return
    if not isinstance(node, Obj | Arr | Union | Alt):
        yield prefix, node
        return
    for step, child in node.steps():
        yield from steps_of(child, prefix + ((step,) if step else ()), seen)


def build(steps: tuple[str, ...], leaf: Any, key_canary: bool) -> tuple[Any, str]:
    """The body holding `leaf` at `steps`, and the concrete path of it; with `key_canary`,
    the object around the leaf also holds the e-mail as a key."""
    value = leaf
    tags: list[tuple[str, str]] = []
    for i in range(len(steps) - 1, -1, -1):
        step = steps[i]
        if step == "[]":
            value = [value]
        elif step == "{*}":
            value = {"k1": value}
        elif step.startswith("{"):
            by, _, tag = step[1:-1].partition("=")
            if isinstance(value, dict):
                value[by] = tag
            else:
                tags.append((by, tag))
        else:
            value = {step: value}
            if key_canary and i == len(steps) - 1:
                value[EMAIL] = True
    path = ""
    for step in steps:
        if step == "[]":
            path += "[0]"
        elif step == "{*}":
            path += ".k1"
        elif not step.startswith("{"):
            path += f".{step}" if path else step
    return value, path


def canary_for(node: Node) -> tuple[Any, bool]:
    """(the canary for this class of leaf, whether it must go alone)."""
    if node.cls == "number":
        return CARD, True  # cards are blocked by default: the request is refused
    if node.cls == "setting" and isinstance(node, Setting):
        accepts_word = node.check(WORD)
        return (WORD, False) if accepts_word else (TEXT, True)
    if node.cls == "unscannable":
        return TEXT, True  # the default policy refuses what it cannot read
    if node.cls == "setting":
        return WORD, False
    return TEXT, False


def samples(contract: Node, base: dict[str, Any], skip: tuple[str, ...] = ()) -> list[Sample]:
    out = []
    for steps, node in steps_of(contract):
        if not steps or node.cls in ("credential", "refused"):
            continue  # credentials are forwarded by design (and masked in the ledger)
        last = steps[-1]
        if len(steps) > 1 and steps[-2].startswith("{" + last + "="):
            continue  # the discriminator itself: its variants are what is walked
        leaf, alone = canary_for(node)
        body, path = build(steps, leaf, key_canary=not alone)
        if not isinstance(body, dict) or path.split(".")[0].split("[")[0] in skip:
            continue
        out.append(Sample(path, {**base, **body}, node.cls, alone))
    return out


def merge(a: Any, b: Any) -> Any:
    """Two sample bodies as one; None when they cannot share a body."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            if key in out:
                merged = merge(out[key], value)
                if merged is None:
                    return None
                out[key] = merged
            else:
                out[key] = value
        return out
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return a if a == b else None


class Recorder(http.server.ThreadingHTTPServer):
    """Answers every POST with a minimal valid answer of its API and keeps the body."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[bytes] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


ANSWERS = {
    "/v1/responses": {"id": "resp_1", "object": "response", "status": "completed",
                      "model": "m", "output": []},
    "/v1/messages": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                     "content": [], "stop_reason": "end_turn", "stop_sequence": None,
                     "usage": {"input_tokens": 1, "output_tokens": 1}},
}  # fmt: skip


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.server.lock:
            self.server.bodies.append(body)
        answer = json.dumps(ANSWERS.get(self.path.split("?")[0], {})).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass
