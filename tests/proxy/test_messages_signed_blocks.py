"""Signed blocks (Messages thinking, redacted thinking) go back byte for byte only when
cogate relayed them to the same caller (issue 25, item 4).

The rewrite tests use a scanner double with a real `SignedBlocks` store; the gateway tests
run the real pipeline, privacy engine (Presidio + spaCy) and ledger, with the upstream an
httpx.MockTransport that answers with signed blocks, as a whole answer and as a stream.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import httpx
import pytest
from cogate.core.settings import Settings
from cogate.policies.signed_blocks import SignedBlocks
from cogate.policies.vault.memory import Vault
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from cogate.proxy.surfaces.anthropic_messages import SURFACE
from fastapi.testclient import TestClient

CREATE = "messages.create"
SIGNATURE = (
    "EqQBCkYIBxgCKkBq3vZ0tY8Wm2pL+u7Xc1Rr9sN4kDfHjQ6aGe5yTz0oIbVwMnP3lK/" + "8xJ7cE2hUiO1gSd4fR9q=="
)
DATA = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mUWq5Y=="
PRIVATE = "Jane Doe wrote from jane.doe@example.com"
THINKING = '{"type":"thinking", "thinking":"' + PRIVATE + '", "signature":"' + SIGNATURE + '"}'
REDACTED = '{"type":"redacted_thinking","data":"' + DATA + '"}'
PRIVATE_RE = re.compile(r"Jane Doe|jane\.doe@example\.com")


class Scanner:
    """A scanner double: replaces PRIVATE's name and e-mail; knows the signatures a real
    store remembered for its caller."""

    def __init__(self, store: SignedBlocks, caller: str) -> None:
        self.vault = Vault()
        self.relayed_before = functools.partial(store.knows, caller)

    def text(self, value: str, path: str, context: str = "", *, words: bool = False) -> str:
        return PRIVATE_RE.sub(lambda m: self.vault.pseudonym("PERSON", m.group()), value)

    def texts(self, values: list[str], paths: list[str]) -> list[str]:
        return [self.text(v, p) for v, p in zip(values, paths, strict=True)]

    def unscannable(self, path: str, kind: str) -> bool:
        return True


def history(*blocks: str) -> bytes:
    return (
        '{"model":"claude-x","max_tokens":16,"messages":[{"role":"user","content":"Hi"},'
        '{"role":"assistant","content":[' + ",".join(blocks) + ',{"type":"text","text":"ok"}]},'
        '{"role":"user","content":"go on"}]}'
    ).encode()


def rewrite(raw: bytes, scanner: Scanner) -> bytes:
    return SURFACE.rewrite(CREATE, raw, json.loads(raw), scanner)


@pytest.fixture
def store() -> SignedBlocks:
    return SignedBlocks(b"k" * 32)


def test_a_remembered_block_is_relayed_byte_for_byte(store: SignedBlocks) -> None:
    store.remember("alice\x00app", SIGNATURE)
    store.remember("alice\x00app", DATA)
    out = rewrite(history(THINKING, REDACTED), Scanner(store, "alice\x00app"))
    assert THINKING.encode() in out and REDACTED.encode() in out


def test_an_unknown_block_with_findings_is_dropped(store: SignedBlocks) -> None:
    # A genuine-looking signature from a session cogate never relayed: scanned, dropped.
    out = json.loads(rewrite(history(THINKING, REDACTED), Scanner(store, "alice\x00app")))
    assert out["messages"][1]["content"] == [{"type": "text", "text": "ok"}]
    assert "Jane" not in json.dumps(out) and "jane.doe" not in json.dumps(out)


def test_an_unknown_thinking_block_without_findings_is_relayed(store: SignedBlocks) -> None:
    clean = THINKING.replace(PRIVATE, "Let me add the numbers")
    out = rewrite(history(clean, REDACTED), Scanner(store, "alice\x00app"))
    assert clean.encode() in out
    assert b"redacted_thinking" not in out  # opaque and unknown: nothing cogate can read


@pytest.mark.parametrize("other", ["bob\x00app", "alice\x00other-app"])
def test_another_callers_remembered_block_is_not_trusted(store: SignedBlocks, other: str) -> None:
    store.remember(other, SIGNATURE)
    store.remember(other, DATA)
    out = json.loads(rewrite(history(THINKING, REDACTED), Scanner(store, "alice\x00app")))
    assert out["messages"][1]["content"] == [{"type": "text", "text": "ok"}]


def test_a_remembered_block_in_a_user_turn_is_scanned(store: SignedBlocks) -> None:
    store.remember("alice\x00app", SIGNATURE)
    raw = ('{"model":"claude-x","max_tokens":16,"messages":[{"role":"user","content":['
           + THINKING + ',{"type":"text","text":"hi"}]}]}').encode()  # fmt: skip
    out = json.loads(rewrite(raw, Scanner(store, "alice\x00app")))
    assert out["messages"][0]["content"] == [{"type": "text", "text": "hi"}]


def test_the_store_is_bounded_and_keeps_no_signature(tmp_path: Path) -> None:
    store = SignedBlocks.in_data_dir(tmp_path, capacity=2)
    for signature in ("s1", "s2", "s3"):
        store.remember("c", signature)
    assert not store.knows("c", "s1") and store.knows("c", "s2") and store.knows("c", "s3")
    assert not store.knows("c", "") and not store.knows("d", "s3")
    assert "s3" not in repr(vars(store))  # only keyed hashes
    assert (tmp_path / "keys" / "signed-blocks.key").stat().st_mode & 0o077 == 0
    # The same data dir gives the same key: another process hashes alike.
    again = SignedBlocks.in_data_dir(tmp_path)
    again.remember("c", "s9")
    assert again._tag("c", "s9") == store._tag("c", "s9")


# -- through the gateway: the answer path remembers what it relays ------------------------

STREAM_SIGNATURE = SIGNATURE[::-1]
STREAM_DATA = DATA[::-1]


def answer(thinking: str) -> dict:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [
            {"type": "thinking", "thinking": thinking, "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": DATA},
            {"type": "text", "text": "Done."},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 2},
    }


def sse(name: str, **data: object) -> str:
    return f"event: {name}\r\ndata: {json.dumps({'type': name, **data})}\r\n\r\n"


def stream(thinking: str) -> bytes:
    SIG = STREAM_SIGNATURE  # noqa: N806  (short, to fit the table)
    redacted = {"type": "redacted_thinking", "data": STREAM_DATA}
    events = [
        sse("message_start", message={**answer(thinking), "content": [], "stop_reason": None}),
        sse("content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}),
        sse("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": thinking}),
        sse("content_block_delta", index=0, delta={"type": "signature_delta", "signature": SIG}),
        sse("content_block_stop", index=0),
        sse("content_block_start", index=1, content_block=redacted),
        sse("content_block_stop", index=1),
        sse("message_stop"),
    ]  # fmt: skip
    return "".join(events).encode()


class Upstream:
    """Answers with signed blocks whose thinking holds PRIVATE (as a model may write it)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        if json.loads(request.content).get("stream"):
            return httpx.Response(
                200, content=stream(PRIVATE), headers={"content-type": "text/event-stream"}
            )
        return httpx.Response(200, json=answer(PRIVATE))


@pytest.fixture
def gateway(tmp_path: Path):
    upstream = Upstream()
    (tmp_path / "policy.yaml").write_text("mode: redact\n")
    config = Settings(data_dir=tmp_path / "data", policy=tmp_path / "policy.yaml")
    transport = httpx.MockTransport(upstream)
    app = create_app(config, assemble=lambda s: assemble_pipeline(s, transport=transport))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, upstream


def headers(key: str = "sk-ant-alice") -> dict[str, str]:
    return {
        "x-api-key": key,
        "anthropic-version": "2023-06-01",
        "x-cogate-app": "cli",
        "content-type": "application/json",
    }


def turn(opening: str, blocks: list[str]) -> bytes:
    """A later request: the app sends back the assistant's blocks as it received them."""
    return (
        '{"model":"m","max_tokens":8,"messages":[{"role":"user","content":'
        + json.dumps(opening)
        + '},{"role":"assistant","content":['
        + ",".join(blocks)
        + ']},{"role":"user","content":"next"}]}'
    ).encode()


def post(client: TestClient, content: bytes, sent: dict[str, str]) -> httpx.Response:
    return client.post("/v1/messages", content=content, headers=sent)


def block_bytes(relayed: bytes, kinds: tuple[str, ...]) -> list[str]:
    """The signed blocks of an answer as the app got them, re-read from its bytes."""
    content = json.loads(relayed)["content"]
    return [json.dumps(b) for b in content if b["type"] in kinds]


@pytest.mark.parametrize("opening", ["Hi, I am Jane Doe", "What is 2 + 2?"])
def test_a_relayed_answers_signed_blocks_come_back_byte_for_byte(gateway, opening: str) -> None:
    # With findings the answer goes through restoration; without, it is relayed as it is.
    client, upstream = gateway
    first = post(client, turn(opening, ['{"type":"text","text":"Hello"}']), headers())
    assert first.status_code == 200
    blocks = block_bytes(first.content, ("thinking", "redacted_thinking"))
    assert len(blocks) == 2
    later = post(client, turn(opening, blocks), headers())
    assert later.status_code == 200
    for block in blocks:
        assert block.encode() in upstream.bodies[-1]
    # Another caller sending the same blocks: not relayed to it, so scanned and dropped.
    other = post(client, turn(opening, blocks), headers("sk-ant-bob"))
    assert other.status_code == 200
    assert b"jane.doe@example.com" not in upstream.bodies[-1]
    assert b"thinking" not in upstream.bodies[-1]


@pytest.mark.parametrize("opening", ["Hi, I am Jane Doe", "What is 2 + 2?"])
def test_a_relayed_streams_signed_blocks_come_back_byte_for_byte(gateway, opening: str) -> None:
    client, upstream = gateway
    asked = json.loads(turn(opening, ['{"type":"text","text":"Hello"}']))
    asked["stream"] = True
    with client.stream("POST", "/v1/messages", json=asked, headers=headers()) as r:
        assert r.status_code == 200
        got = r.read()
    assert STREAM_SIGNATURE.encode() in got and STREAM_DATA.encode() in got
    thinking = json.dumps({"type": "thinking", "thinking": PRIVATE, "signature": STREAM_SIGNATURE})
    redacted = json.dumps({"type": "redacted_thinking", "data": STREAM_DATA})
    later = post(client, turn(opening, [thinking, redacted]), headers())
    assert later.status_code == 200
    assert thinking.encode() in upstream.bodies[-1] and redacted.encode() in upstream.bodies[-1]
    # The same blocks under another app label: another caller.
    other = post(client, turn(opening, [thinking, redacted]), {**headers(), "x-cogate-app": "ide"})
    assert other.status_code == 200
    assert b"thinking" not in upstream.bodies[-1]
