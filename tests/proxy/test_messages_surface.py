"""The Messages surface: a field-path conformance table for requests and stream events.

Request bodies are checked against the anthropic SDK's parameter types, answers and events
against its pydantic models; byte-for-byte relay is checked on raw bytes.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import anthropic.types as T
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import content_block_param
from cogate.core.errors import BadRequest, UpstreamUnreachable
from cogate.core.surface import SSEEvent
from cogate.policies.restore import HeldText, TextRestorer
from cogate.policies.vault.memory import Vault
from cogate.proxy.surfaces.anthropic_messages import SURFACE
from cogate.proxy.surfaces.json_spans import Verbatim, spans, splice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

SECRET = "Jane Doe"
CREATE = "messages.create"
PARAM_TYPES = {
    typing.get_type_hints(t)["type"].__args__[0]: t
    for t in typing.get_args(content_block_param.ContentBlockParam)
}


class Recorder:
    """A scanner double: replaces SECRET with a placeholder, records every path it saw."""

    def __init__(self, vault: Vault, keep: bool = True) -> None:
        self.vault, self.keep = vault, keep
        self.paths: list[str] = []
        self.unscannable_seen: list[tuple[str, str]] = []
        self.relayed: set[str] = set()  # signatures cogate relayed to this caller

    def relayed_before(self, signature: str) -> bool:
        return signature in self.relayed

    def text(self, value: str, path: str, context: str = "", *, words: bool = False) -> str:
        self.paths.append(path)
        if SECRET in value:
            value = value.replace(SECRET, self.vault.pseudonym("PERSON", SECRET))
        return value

    def texts(self, values: list[str], paths: list[str]) -> list[str]:
        return [self.text(value, path) for value, path in zip(values, paths, strict=True)]

    def unscannable(self, path: str, kind: str) -> bool:
        self.unscannable_seen.append((path, kind))
        return self.keep


def check_block_shape(block: dict[str, Any]) -> None:
    """The block's keys are those the SDK's parameter type for its `type` declares."""
    declared = typing.get_type_hints(PARAM_TYPES[block["type"]])
    assert set(block) <= set(declared), (block["type"], set(block) - set(declared))


def unchecked(*messages: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"model": "claude-x", "max_tokens": 16, "messages": list(messages), **top}


def request(*messages: dict[str, Any], **top: Any) -> dict[str, Any]:
    body = unchecked(*messages, **top)
    for message in messages:
        if isinstance(message["content"], list):
            for block in message["content"]:
                check_block_shape(block)
    return body


def user(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def text(value: str, **more: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **more}


HI = user(text("hi"))
CITATION = {
    "type": "char_location",
    "cited_text": f"{SECRET} wrote it",
    "document_index": 0,
    "document_title": "notes",
    "start_char_index": 0,
    "end_char_index": 9,
}
SCANNED = [
    ("system", request(HI, system=f"I am {SECRET}")),
    ("system[0].text", request(HI, system=[text(f"I am {SECRET}")])),
    ("messages[0].content", request({"role": "user", "content": f"I am {SECRET}"})),
    ("messages[0].content", request({"role": "system", "content": f"I am {SECRET}"}, HI)),
    ("messages[0].content[0].text", request(user(text(f"I am {SECRET}")))),
    (
        "messages[1].content[0].citations[0].cited_text",
        request(HI, assistant(text("ok", citations=[CITATION]))),
    ),
    (
        "messages[0].content[0].source.data",
        request(
            user(
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": SECRET},
                }
            )
        ),
    ),
    (
        "messages[0].content[0].title",
        request(
            user(
                {
                    "type": "document",
                    "title": SECRET,
                    "context": "x",
                    "source": {"type": "text", "media_type": "text/plain", "data": "d"},
                }
            )
        ),
    ),
    (
        "messages[0].content[0].context",
        request(
            user(
                {
                    "type": "document",
                    "context": SECRET,
                    "source": {"type": "text", "media_type": "text/plain", "data": "d"},
                }
            )
        ),
    ),
    (
        "messages[0].content[0].source.content[0].text",
        request(
            user({"type": "document", "source": {"type": "content", "content": [text(SECRET)]}})
        ),
    ),
    (
        "messages[0].content[0].title",
        request(
            user({"type": "search_result", "title": SECRET, "source": "s", "content": [text("t")]})
        ),
    ),
    (
        "messages[0].content[0].source",
        request(
            user({"type": "search_result", "title": "t", "source": SECRET, "content": [text("t")]})
        ),
    ),
    (
        "messages[0].content[0].content[0].text",
        request(
            user({"type": "search_result", "title": "t", "source": "s", "content": [text(SECRET)]})
        ),
    ),
    (
        "messages[1].content[0].input.<value 0>",
        request(
            HI, assistant({"type": "tool_use", "id": "t1", "name": "f", "input": {"to": SECRET}})
        ),
    ),
    (
        "messages[1].content[0].input.<key 0>",
        request(HI, assistant({"type": "tool_use", "id": "t1", "name": "f", "input": {SECRET: 1}})),
    ),
    (
        "messages[1].content[0].input.<value 0>",
        request(
            HI,
            assistant(
                {
                    "type": "server_tool_use",
                    "id": "s1",
                    "name": "web_search",
                    "input": {"query": SECRET},
                }
            ),
        ),
    ),
    (
        "messages[0].content[0].content",
        request(user({"type": "tool_result", "tool_use_id": "t1", "content": f"found {SECRET}"})),
    ),
    (
        "messages[0].content[0].content[0].text",
        request(user({"type": "tool_result", "tool_use_id": "t1", "content": [text(SECRET)]})),
    ),
    (
        "messages[0].content[0].content.stdout",
        request(
            user(
                {
                    "type": "code_execution_tool_result",
                    "tool_use_id": "c1",
                    "content": {
                        "type": "code_execution_result",
                        "stdout": SECRET,
                        "stderr": "",
                        "return_code": 0,
                        "content": [],
                    },
                }
            )
        ),
    ),
    (
        "messages[0].content[0].content.stderr",
        request(
            user(
                {
                    "type": "bash_code_execution_tool_result",
                    "tool_use_id": "c1",
                    "content": {
                        "type": "bash_code_execution_result",
                        "stdout": "",
                        "stderr": SECRET,
                        "return_code": 1,
                        "content": [],
                    },
                }
            )
        ),
    ),
    (
        "messages[0].content[0].content.content",
        request(
            user(
                {
                    "type": "text_editor_code_execution_tool_result",
                    "tool_use_id": "c1",
                    "content": {
                        "type": "text_editor_code_execution_view_result",
                        "content": SECRET,
                        "file_type": "text",
                    },
                }
            )
        ),
    ),
    (
        "tools[0].description",
        request(HI, tools=[{"name": "f", "description": SECRET, "input_schema": {}}]),
    ),
    (
        "tools[0].input_schema.properties.to.description",
        request(
            HI,
            tools=[
                {
                    "name": "f",
                    "input_schema": {
                        "type": "object",
                        "properties": {"to": {"type": "string", "description": SECRET}},
                    },
                }
            ],
        ),
    ),
    (
        "tools[0].input_examples[0].<value 0>",
        request(HI, tools=[{"name": "f", "input_schema": {}, "input_examples": [{"to": SECRET}]}]),
    ),
    ("stop_sequences[0]", request(HI, stop_sequences=[SECRET])),
    ("metadata.user_id", request(HI, metadata={"user_id": SECRET})),
]


@pytest.mark.parametrize(
    ("path", "body"), SCANNED, ids=[f"{i}:{p}" for i, (p, _) in enumerate(SCANNED)]
)
def test_every_text_path_is_scanned(path: str, body: dict[str, Any]) -> None:
    scanner = Recorder(Vault())
    out = SURFACE.rewrite(CREATE, json.dumps(body).encode(), body, scanner)
    assert path in scanner.paths
    assert SECRET.encode() not in out
    assert b"[PERSON_1]" in out
    # Names and ids of tools are code: never changed.
    assert json.loads(out).get("model") == "claude-x"


# Signed and encrypted blocks, written with unusual but valid JSON (key order, spacing,
# escapes) that any re-encoding would change.
# Issue 25: only signed blocks (thinking, redacted_thinking) that cogate relayed to this
# caller are relayed byte for byte, and only in assistant turns.
SIGNATURE = (
    "EqQBCkYIBxgCKkBq3vZ0tY8Wm2pL+u7Xc1Rr9sN4kDfHjQ6aGe5yTz0oIbVwMnP3lK/8xJ7cE2hUiO1gSd4fR9q=="
)
VERBATIM = [
    '{ "signature" : "' + SIGNATURE.replace("/", "\\/") + '",  "type":"thinking", '
    '"thinking": "I think about \\u004aane Doe \\u00e9\\n" }',
    '{"data":"' + SIGNATURE.replace("/", "\\/") + '","type" : "redacted_thinking"}',
]


@pytest.mark.parametrize("block", VERBATIM)
def test_signed_and_encrypted_blocks_are_relayed_byte_for_byte(block: str) -> None:
    check_block_shape(json.loads(block))
    raw = (
        '{"model":"claude-x","max_tokens":16,"messages":['
        '{"role":"user","content":"Hi, I am Jane Doe"},'
        '{"role":"assistant","content":[' + block + ' , {"type":"text","text":"Jane Doe, hello"}]},'
        '{"role":"user","content":"Thanks \\u00e9"}]}'
    ).encode()
    scanner = Recorder(Vault())
    scanner.relayed.add(SIGNATURE)
    out = SURFACE.rewrite(CREATE, raw, json.loads(raw), scanner)
    assert block.encode() in out  # the exact bytes, on raw bytes rather than parsed JSON
    assert out.count(b"Jane Doe") == block.count("Jane Doe")  # only inside the relayed block
    assert not any(p.startswith("messages[1].content[0]") for p in scanner.paths)
    assert json.loads(out)["messages"][1]["content"][1]["text"] == "[PERSON_1], hello"


SCANNED_RESULTS = [
    '{"type":"web_search_tool_result","tool_use_id":"s1","content":[{"type":"web_search_result",'
    '"title":"Jane Doe bio","url":"https://e.example/j","encrypted_content":"Eo8\\/enc","page_age":null}]}',
    '{"type":"web_fetch_tool_result","tool_use_id":"s2","content":{"type":"web_fetch_result",'
    '"url":"https://e.example","content":{"type":"document","source":{"type":"text",'
    '"media_type":"text/plain","data":"Jane Doe page"}}}}',
]


@pytest.mark.parametrize("block", SCANNED_RESULTS)
def test_server_tool_results_are_scanned(block: str) -> None:
    # Issue 25: titles, urls and fetched documents of server tool results are scanned.
    raw = ('{"model":"claude-x","max_tokens":16,"messages":[{"role":"assistant","content":['
           + block + "]}]}").encode()  # fmt: skip
    out = SURFACE.rewrite(CREATE, raw, json.loads(raw), Recorder(Vault()))
    assert b"Jane Doe" not in out and b"[PERSON_1]" in out


THINKING_WITH_A_NAME = {"type": "thinking", "thinking": "Jane Doe asked", "signature": "1"}


@pytest.mark.parametrize("role", ["user", "assistant"])
def test_a_thinking_block_off_the_rule_is_scanned_and_dropped_with_findings(role: str) -> None:
    # Issue 25: outside an assistant turn, or with a signature that is not ciphertext, the
    # block is scanned; a block with findings is dropped (its signature cannot cover them).
    body = request({"role": role, "content": [THINKING_WITH_A_NAME, text("hello")]})
    out = json.loads(SURFACE.rewrite(CREATE, json.dumps(body).encode(), body, Recorder(Vault())))
    assert out["messages"][0]["content"] == [text("hello")]


def test_duplicate_keys_resolve_as_json_loads_does() -> None:
    raw = (
        b'{"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"a","signature":"1"}]}],'
        b'"model":"m","messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"b","signature":"2"}]}]}'
    )
    out = SURFACE.rewrite(CREATE, raw, json.loads(raw), Recorder(Vault()))
    assert json.loads(out)["messages"] == json.loads(raw)["messages"]


def test_images_and_binary_documents_go_to_unscannable() -> None:
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"},
    }
    pdf = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"},
    }
    body = request(user(image, pdf, text("look")))
    dropping = Recorder(Vault(), keep=False)
    out = json.loads(SURFACE.rewrite(CREATE, json.dumps(body).encode(), body, dropping))
    assert dropping.unscannable_seen == [
        ("messages[0].content[0]", "image"),
        ("messages[0].content[1].source", "document:base64"),
    ]
    assert out["messages"][0]["content"] == [text("look")]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (request(HI, new_text_field="Jane Doe"), "new_text_field"),
        (unchecked(user({"type": "hologram", "data": "x"})), "messages[0].content[0]"),
        (unchecked({"role": "robot", "content": "x"}), "messages[0].role"),
    ],
    ids=["unknown-field", "unknown-block", "bad-role"],
)
def test_unknown_text_is_refused_naming_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(BadRequest) as caught:
        SURFACE.rewrite(CREATE, json.dumps(body).encode(), body, Recorder(Vault()))
    assert caught.value.param == param


def test_unknown_field_without_text_is_kept() -> None:
    body = request(HI, some_new_flag=True, budget=3)
    out = json.loads(SURFACE.rewrite(CREATE, json.dumps(body).encode(), body, Recorder(Vault())))
    assert out["some_new_flag"] is True and out["budget"] == 3


# -- answers ------------------------------------------------------------------------------


@pytest.fixture
def vault() -> Vault:
    v = Vault()
    assert v.pseudonym("PERSON", SECRET) == "[PERSON_1]"
    assert v.pseudonym("EMAIL_ADDRESS", 'jane"doe@example.com') == "[EMAIL_1]"
    return v


def test_restore_bytes_restores_text_and_tool_input_but_never_thinking(vault: Vault) -> None:
    thinking = (
        '{"type":"thinking","thinking":"[PERSON_1] asked \\u00e9\\/","signature":"c2ln\\/=="}'
    )
    raw = (
        '{"id":"msg_1","type":"message","role":"assistant","model":"m","content":['
        + thinking
        + ',{"type":"text","text":"Hello [PERSON_1]","citations":[{"type":"char_location",'
        '"cited_text":"[PERSON_1] wrote","document_index":0,"document_title":"t",'
        '"start_char_index":0,"end_char_index":3}]},'
        '{"type":"tool_use","id":"t","name":"mail","input":{"to":"[EMAIL_1]","[PERSON_1]":["[PERSON_1]"]}}],'
        '"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":2}}'
    ).encode()
    out = SURFACE.restore_bytes(CREATE, raw, TextRestorer(vault))
    assert thinking.encode() in out
    message = T.Message.model_validate_json(out)
    assert message.content[0].thinking == "[PERSON_1] asked é/"
    assert message.content[1].text == f"Hello {SECRET}"
    assert message.content[1].citations[0].cited_text == f"{SECRET} wrote"
    assert message.content[2].input == {"to": 'jane"doe@example.com', SECRET: [SECRET]}


def test_an_answer_block_whose_type_is_not_a_string_is_restored_not_crashed(
    vault: Vault,
) -> None:
    raw = (
        b'{"id":"msg_1","type":"message","role":"assistant","content":['
        b'{"type":{"odd":1},"text":"[PERSON_1]"},{"type":"text","text":"Hi [PERSON_1]"}]}'
    )
    out = json.loads(SURFACE.restore_bytes(CREATE, raw, TextRestorer(vault)))
    assert out["content"][0]["type"] == {"odd": 1}
    assert out["content"][1]["text"] == f"Hi {SECRET}"


def test_error_message_is_restored_and_nothing_else(vault: Vault) -> None:
    raw = b'{"type":"error","error":{"type":"invalid_request_error","message":"bad [PERSON_1]"}}'
    out = json.loads(SURFACE.restore_bytes(CREATE, raw, TextRestorer(vault)))
    assert out == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": f"bad {SECRET}"},
    }
    untouched = b'{"type":"error", "error":{"type":"overloaded_error","message":"Overloaded"}}'
    assert SURFACE.restore_bytes(CREATE, untouched, TextRestorer(vault)) == untouched


# -- stream events ------------------------------------------------------------------------


def ev(kind: str, **data: Any) -> SSEEvent:
    return SSEEvent(kind, {"type": kind, **data})


def delta(index: int, **d: Any) -> SSEEvent:
    return ev("content_block_delta", index=index, delta=d)


START = ev(
    "message_start",
    message={
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 0},
    },
)
STREAM = [
    START,
    ev("ping"),
    ev(
        "content_block_start",
        index=0,
        content_block={"type": "thinking", "thinking": "", "signature": ""},
    ),
    delta(0, type="thinking_delta", thinking="About [PER"),
    delta(0, type="thinking_delta", thinking="SON_1]."),
    delta(0, type="signature_delta", signature="c2ln"),
    ev("content_block_stop", index=0),
    ev("content_block_start", index=1, content_block={"type": "text", "text": ""}),
    delta(1, type="text_delta", text="Hello [PER"),
    delta(1, type="text_delta", text="SON_1], see "),
    delta(
        1,
        type="citations_delta",
        citation={
            "type": "char_location",
            "cited_text": "[PERSON_1] said",
            "document_index": 0,
            "document_title": None,
            "start_char_index": 0,
            "end_char_index": 4,
        },
    ),
    delta(1, type="text_delta", text="and [PERSON"),
    ev("content_block_stop", index=1),
    ev(
        "content_block_start",
        index=2,
        content_block={"type": "tool_use", "id": "t", "name": "mail", "input": {}},
    ),
    delta(2, type="input_json_delta", partial_json='{"to": "[EMA'),
    delta(2, type="input_json_delta", partial_json='IL_1]", "cc": "[PERSON_1'),
    delta(2, type="input_json_delta", partial_json=']"}'),
    ev("content_block_stop", index=2),
    ev(
        "message_delta",
        delta={"stop_reason": "tool_use", "stop_sequence": None},
        usage={"output_tokens": 9},
    ),
    ev("message_stop"),
]
EVENT = TypeAdapter(T.RawMessageStreamEvent)


def run_stream(vault: Vault, events: list[SSEEvent]) -> list[SSEEvent]:
    text = TextRestorer(vault)
    restorer = SURFACE.stream_restorer(CREATE, HeldText(text), text)
    out = [o for e in events for o in restorer.feed(e)]
    return out + restorer.finish()


def accumulate(events: list[SSEEvent]) -> T.Message:
    snapshot, bufs = None, {}
    for event in events:
        if event.name == "ping":  # keep-alive: not a message event in the SDK's union
            continue
        parsed = EVENT.validate_python(event.data)  # every event has the SDK's shape
        assert event.name == event.data["type"]
        snapshot = accumulate_event(event=parsed, current_snapshot=snapshot, json_bufs=bufs)
    return snapshot


def test_stream_conformance(vault: Vault) -> None:
    out = run_stream(vault, STREAM)
    final = accumulate(out)
    thinking, answer, call = final.content
    assert thinking.thinking == "About [PERSON_1]." and thinking.signature == "c2ln"
    assert answer.text == f"Hello {SECRET}, see and [PERSON"  # an unknown tail stays as sent
    assert answer.citations[0].cited_text == f"{SECRET} said"
    assert call.input == {"to": 'jane"doe@example.com', "cc": SECRET}
    # Thinking and signature deltas are the very same events: relayed as their original bytes.
    for original in STREAM[3:6]:
        assert any(o is original for o in out)


def test_held_text_comes_out_before_its_block_stops(vault: Vault) -> None:
    out = run_stream(vault, STREAM)
    stop = next(
        i
        for i, e in enumerate(out)
        if e.data["type"] == "content_block_stop" and e.data["index"] == 1
    )
    assert out[stop - 2].data["delta"] == {"type": "text_delta", "text": "and "}
    assert out[stop - 1].data["delta"] == {"type": "text_delta", "text": "[PERSON"}


def test_stream_cut_short_flushes_held_text(vault: Vault) -> None:
    out = run_stream(vault, STREAM[:9])  # ends inside "Hello [PER"
    assert out[-1].data["delta"]["text"] == "[PER"
    assert "".join(
        e.data["delta"].get("text", "") for e in out if e.data["type"] == "content_block_delta"
    ) == ("Hello [PER")


def test_error_event_is_restored(vault: Vault) -> None:
    error = ev("error", error={"type": "overloaded_error", "message": "busy for [PERSON_1]"})
    (out,) = run_stream(vault, [error])
    assert out.data["error"]["message"] == f"busy for {SECRET}"


# -- conversation, turns and local answers -------------------------------------------------


def test_turns_and_seed() -> None:
    body = request(
        user(text("Hi, I am Jane")),
        assistant({"type": "thinking", "thinking": "t", "signature": "s"}, text("Hello")),
        user({"type": "tool_result", "tool_use_id": "t", "content": "42"}, text("and?")),
        system=[text("Be brief.")],
    )
    turns = [(t.role, t.text) for t in SURFACE.turns(CREATE, body)]
    assert turns == [
        ("system", "Be brief."),
        ("user", "Hi, I am Jane"),
        ("assistant", "Hello"),
        ("tool", "42"),
        ("user", "and?"),
    ]
    later = {**body, "messages": [*body["messages"], assistant(text("x"))]}
    assert SURFACE.conversation_seed(CREATE, body) == SURFACE.conversation_seed(CREATE, later)


def test_turns_read_every_text_block_in_order() -> None:
    call = {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "Jane"}}
    document = {
        "type": "document",
        "title": "Notes",
        "source": {"type": "content", "content": [text("page one")]},
    }
    found = {
        "type": "search_result",
        "title": "Result",
        "source": "https://example.com",
        "content": [text("snippet")],
    }
    body = request(
        user(text("Read"), document, {"type": "document", "source": {"type": "text", "data": "d"}}),
        assistant(text("Looking"), call, {"type": "redacted_thinking", "data": "x"}),
        user(
            {"type": "tool_result", "tool_use_id": "t1", "content": [found]},
            {"type": "tool_result", "tool_use_id": "t2", "content": "boom", "is_error": True},
        ),
        system="Be brief.",
    )
    assert [(t.role, t.text) for t in SURFACE.turns(CREATE, body)] == [
        ("system", "Be brief."),
        ("user", "Read\nNotes\npage one\nd"),
        ("assistant", 'Looking\n(tool call lookup: {"q": "Jane"})'),
        ("tool", "Result\nhttps://example.com\nsnippet\n(error) boom"),
    ]


@pytest.mark.parametrize(
    ("block", "param"),
    [
        (
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "x"}},
            "messages[0].content[1]",
        ),
        (
            {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
            "messages[0].content[1].source",
        ),
    ],
    ids=["image", "pdf-url"],
)
def test_turns_refuse_what_cannot_be_read_as_text(block: dict[str, Any], param: str) -> None:
    with pytest.raises(BadRequest) as refused:
        SURFACE.turns(CREATE, request(user(text("look"), block)))
    assert refused.value.param == param and "redact mode" in refused.value.message


class FakeAnswer:
    """An Answer double (the Protocol the local model's generation implements)."""

    finish_reason = "length"
    prompt_tokens = 5
    completion_tokens = 2

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.closed = False

    def __aiter__(self):  # type: ignore[no-untyped-def]
        async def gen():  # type: ignore[no-untyped-def]
            for piece in self.pieces:
                yield piece

        return gen()

    async def aclose(self) -> None:
        self.closed = True


async def collect(reply) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join([chunk async for chunk in reply.stream])


@pytest.mark.anyio
async def test_render_json_and_event_stream() -> None:
    body = request(HI)
    answer = FakeAnswer(["Hel", "lo"])
    reply = await SURFACE.render(CREATE, body, answer, "local-model")
    message = T.Message.model_validate_json(reply.body)
    assert message.content[0].text == "Hello" and message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 2 and answer.closed

    streamed = await SURFACE.render(
        CREATE, {**body, "stream": True}, FakeAnswer(["Hel", "lo"]), "local-model"
    )
    assert streamed.media_type == "text/event-stream"
    raw = (await collect(streamed)).decode()
    events = []
    for block in raw.strip().split("\n\n"):
        name, data = block.split("\n")
        events.append(
            SSEEvent(name.removeprefix("event: "), json.loads(data.removeprefix("data: ")))
        )
    final = accumulate(events)
    assert final.content[0].text == "Hello" and final.stop_reason == "max_tokens"
    assert final.usage.input_tokens == 5 and final.usage.output_tokens == 2


@pytest.mark.anyio
async def test_render_count_tokens_reads_the_prompt_size_and_generates_nothing() -> None:
    answer = FakeAnswer(["never read"])
    reply = await SURFACE.render("messages.count_tokens", request(HI), answer, "local-model")
    counted = T.MessageTokensCount.model_validate_json(reply.body)
    assert counted.input_tokens == 5 and answer.closed and answer.pieces == ["never read"]


class FailingAnswer(FakeAnswer):
    def __aiter__(self):  # type: ignore[no-untyped-def]
        async def gen():  # type: ignore[no-untyped-def]
            yield "Hel"
            raise UpstreamUnreachable("the local model failed while generating")

        return gen()


@pytest.mark.anyio
async def test_render_stream_ends_with_an_error_event_the_sdk_raises() -> None:
    answer = FailingAnswer([])
    reply = await SURFACE.render(CREATE, {**request(HI), "stream": True}, answer, "local-model")
    raw = (await collect(reply)).decode()
    last = raw.strip().split("\n\n")[-1]
    assert last.startswith("event: error\n")
    error = T.ErrorResponse.model_validate_json(last.split("data: ", 1)[1])
    assert "local model failed" in error.error.message and answer.closed


def test_json_spans_splice_round_trip() -> None:
    raw = '{"a" : [ {"x":1} , {"y" : "\\u00e9"} ], "b":{"a":[2]}}'
    found = spans(raw, ("a", None))
    assert [raw[s:e] for s, e in found.values()] == ['{"x":1}', '{"y" : "\\u00e9"}']
    body = json.loads(raw)
    body["a"][1] = Verbatim(raw[slice(*found[("a", 1)])])
    assert splice(body) == b'{"a":[{"x":1},{"y" : "\\u00e9"}],"b":{"a":[2]}}'


# -- properties ----------------------------------------------------------------------------

JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.floats(allow_nan=False)
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
BLOCKS = st.lists(st.dictionaries(st.text(max_size=5), JSON_VALUE, max_size=3), max_size=3)


def spaced(value: Any, draw_space: Any) -> str:
    """JSON text of `value` with arbitrary whitespace and escaping choices."""
    space = draw_space()
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = json.dumps(k, ensure_ascii=draw_space() == " ")
            items.append(f"{space}{key}{space}:{spaced(v, draw_space)}")
        return "{" + ",".join(items) + space + "}"
    if isinstance(value, list):
        return "[" + ",".join(space + spaced(v, draw_space) for v in value) + space + "]"
    return json.dumps(value, ensure_ascii=draw_space() == "")


@given(st.lists(BLOCKS, max_size=3), st.data())
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_spans_find_exactly_what_json_loads_reads(contents: list, data: st.DataObject) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": c} for c in contents]}
    raw = spaced(body, lambda: data.draw(st.sampled_from(["", " ", "\n  "])))
    parsed = json.loads(raw)
    found = spans(raw, ("messages", None, "content", None))
    expected = {
        ("messages", i, "content", j): block
        for i, m in enumerate(parsed["messages"])
        for j, block in enumerate(m["content"])
    }
    assert {k: json.loads(raw[s:e]) for k, (s, e) in found.items()} == expected


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=6))
@settings(max_examples=200)
def test_stream_restores_wherever_the_pieces_are_cut(cuts: list[int]) -> None:
    vault = Vault()
    vault.pseudonym("PERSON", SECRET)
    vault.pseudonym("EMAIL_ADDRESS", 'jane"doe@example.com')
    answer = "Dear [PERSON_1], mail [EMAIL_1] or [PERSON_1]!"
    arguments = json.dumps({"to": "[EMAIL_1]", "name": "[PERSON_1]"})
    events = [START, ev("content_block_start", index=0, content_block={"type": "text", "text": ""})]
    events += [delta(0, type="text_delta", text=p) for p in split(answer, cuts)]
    events += [ev("content_block_stop", index=0)]
    call = {"type": "tool_use", "id": "t", "name": "mail", "input": {}}
    events += [ev("content_block_start", index=1, content_block=call)]
    events += [delta(1, type="input_json_delta", partial_json=p) for p in split(arguments, cuts)]
    events += [ev("content_block_stop", index=1), ev("message_stop")]
    final = accumulate(run_stream(vault, events))
    assert final.content[0].text == f'Dear {SECRET}, mail jane"doe@example.com or {SECRET}!'
    assert final.content[1].input == {"to": 'jane"doe@example.com', "name": SECRET}


def split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(points, points[1:], strict=False) if b > a] or [text]
