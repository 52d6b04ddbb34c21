"""Restoration: mangled placeholders, whole answers, streams split anywhere, round trips."""

from __future__ import annotations

import json

import pytest
from cogate.policies.restore import VaultRestorer as Restorer
from cogate.policies.vault.memory import Vault
from cogate.proxy.surfaces.chat_stream import ChatStreamRestorer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import chat, exchange


@pytest.fixture
def vault() -> Vault:
    v = Vault()
    assert v.pseudonym("PERSON", "Isabel Martinez") == "[PERSON_1]"
    assert v.pseudonym("EMAIL_ADDRESS", 'isa"bel@example.com') == "[EMAIL_1]"
    assert v.pseudonym("PERSON", "Tom") == "[PERSON_2]"
    assert v.pseudonym("US_DRIVER_LICENSE", "D1234567") == "[LICENSE_1]"
    return v


@pytest.mark.parametrize(
    "form",
    [
        "[PERSON_1]",
        "[person_1]",
        "[Person_1]",
        "[ PERSON_1 ]",
        "[PERSON 1]",
        "[PERSON-1]",
        "[PERSON_ 1]",
        "&#91;PERSON_1&#93;",
        "&lsqb;PERSON_1&rsqb;",
        "\\[PERSON\\_1\\]",
        "<PERSON_1>",
        "&lt;PERSON_1&gt;",
        "PERSON_1",
        "PERSON\\_1",
        "[PERSON1]",
    ],
)
def test_mangled_placeholders_are_restored(vault, form) -> None:
    restorer = Restorer(vault)
    assert restorer.text.restore(f"Dear {form}, welcome.") == "Dear Isabel Martinez, welcome."


@pytest.mark.parametrize(
    "text",
    [
        "[PERSON_9] is unknown",
        "person_1 lowercase bare is prose",
        "MY_PERSON_1 is code",
        "PERSON_12 is another number",
        "(PERSON)",
        "[LICENSE]",
        "a < b and c > d",
    ],
)
def test_other_text_is_left_alone(vault, text) -> None:
    assert Restorer(vault).text.restore(text) == text


def test_multiword_labels(vault) -> None:
    assert Restorer(vault).text.restore("id [license_1]") == "id D1234567"


def test_restore_json_answer(vault) -> None:
    answer = {
        "id": "x",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hi [PERSON_1]!",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {
                                "name": "mail",
                                "arguments": json.dumps({"to": "[EMAIL_1]", "cc": "[PERSON_2]"}),
                            },
                        }
                    ],
                },
            }
        ],
    }
    restored = Restorer(vault).restore_json(answer)
    message = restored["choices"][0]["message"]
    assert message["content"] == "Hi Isabel Martinez!"
    # the value (with a quote) is JSON-escaped inside the arguments string
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "to": 'isa"bel@example.com',
        "cc": "Tom",
    }
    completions = {"choices": [{"index": 0, "text": "Bye [PERSON_2]"}]}
    assert Restorer(vault).restore_json(completions)["choices"][0]["text"] == "Bye Tom"


def chunk(content: str | None = None, finish: str | None = None, **delta) -> dict:
    if content is not None:
        delta["content"] = content
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def run_stream(restorer: Restorer, events: list[dict]) -> list[dict]:
    stream = ChatStreamRestorer(restorer.text)
    out = []
    for event in events:
        out.extend(stream.feed(event))
    out.extend(stream.finish())
    return out


def content_of(events: list[dict]) -> str:
    return "".join(
        (c.get("delta") or {}).get("content") or "" for e in events for c in e.get("choices", [])
    )


ANSWER = "Dear [PERSON_1], I mailed &lt;EMAIL_1&gt; and [person 2]. Bye [PERSON_1]"
RESTORED = 'Dear Isabel Martinez, I mailed isa"bel@example.com and Tom. Bye Isabel Martinez'


@pytest.mark.parametrize("cut", range(1, len(ANSWER)))
def test_stream_split_at_every_position(vault, cut: int) -> None:
    events = [chunk(ANSWER[:cut]), chunk(ANSWER[cut:]), chunk(finish="stop")]
    assert content_of(run_stream(Restorer(vault), events)) == RESTORED


def test_stream_one_character_per_chunk(vault) -> None:
    events = [chunk(char) for char in ANSWER] + [chunk(finish="stop")]
    out = run_stream(Restorer(vault), events)
    assert content_of(out) == RESTORED


def test_stream_holds_back_only_a_possible_prefix(vault) -> None:
    stream = ChatStreamRestorer(Restorer(vault).text)
    first = stream.feed(chunk("Hello there, dear [PERS"))
    assert content_of(first) == "Hello there, dear "
    second = stream.feed(chunk("ON_1] how are you"))
    assert content_of(second) == "Isabel Martinez how are you"
    long_text = "x" * 500
    assert content_of(stream.feed(chunk(long_text))) == long_text  # nothing held


def test_stream_without_finish_reason_is_flushed(vault) -> None:
    out = run_stream(Restorer(vault), [chunk("Bye [PERSON_")])
    assert content_of(out) == "Bye [PERSON_"
    out = run_stream(Restorer(vault), [chunk("Bye PERSON_1")])
    assert content_of(out) == "Bye Isabel Martinez"


def test_stream_tool_call_argument_deltas(vault) -> None:
    arguments = json.dumps({"to": "[EMAIL_1]", "name": "[PERSON_1]"})
    for cut in range(1, len(arguments)):
        events = [
            chunk(
                tool_calls=[
                    {
                        "index": 0,
                        "id": "c",
                        "type": "function",
                        "function": {"name": "mail", "arguments": arguments[:cut]},
                    }
                ]
            ),
            chunk(tool_calls=[{"index": 0, "function": {"arguments": arguments[cut:]}}]),
            chunk(finish="tool_calls"),
        ]
        out = run_stream(Restorer(vault), events)
        joined = "".join(
            call["function"].get("arguments", "")
            for e in out
            for c in e["choices"]
            for call in (c.get("delta") or {}).get("tool_calls", [])
        )
        assert json.loads(joined) == {"to": 'isa"bel@example.com', "name": "Isabel Martinez"}


def test_stream_completions_text(vault) -> None:
    text = "Bye [PERSON_2] and [PERSON_1]."
    for cut in range(1, len(text)):
        events = [
            {"choices": [{"index": 0, "text": text[:cut], "finish_reason": None}]},
            {"choices": [{"index": 0, "text": text[cut:], "finish_reason": "stop"}]},
        ]
        out = run_stream(Restorer(vault), events)
        assert (
            "".join(c["text"] for e in out for c in e["choices"]) == "Bye Tom and Isabel Martinez."
        )


def test_stream_keeps_choices_apart(vault) -> None:
    events = [
        {
            "choices": [
                {"index": 0, "delta": {"content": "[PERS"}, "finish_reason": None},
                {"index": 1, "delta": {"content": "[PERSON_2"}, "finish_reason": None},
            ]
        },
        {
            "choices": [
                {"index": 1, "delta": {"content": "]"}, "finish_reason": "stop"},
                {"index": 0, "delta": {"content": "ON_1]"}, "finish_reason": "stop"},
            ]
        },
    ]
    out = run_stream(Restorer(vault), events)
    by_index: dict[int, str] = {}
    for e in out:
        for c in e["choices"]:
            by_index[c["index"]] = by_index.get(c["index"], "") + (c["delta"].get("content") or "")
    assert by_index == {0: "Isabel Martinez", 1: "Tom"}


# Round trip: redact → the model echoes what it received → restore gives the app its text.
NAMES = ["Isabel Martinez", "Tom Baker", "Sarah O'Connor"]
EMAILS = ["isabel.martinez@example.com", "t.baker@mail.example.org", "sarah@oconnor.example.ie"]
PHONES = ["+44 20 7946 0958", "+49 30 1234567"]
SECRETS = ["sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w", "AKIAIOSFODNN7EXAMPLE"]
piece = st.one_of(
    st.sampled_from(EMAILS),
    st.sampled_from(PHONES),
    st.sampled_from(SECRETS),
    st.sampled_from([f"my name is {n}" for n in NAMES]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
    st.sampled_from([" ", ", ", ".\n", " and ", " [not a placeholder] ", " PERSON_1 "]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(piece, min_size=1, max_size=8), cut=st.integers(min_value=0))
def test_redact_echo_restore_round_trip(lenient, parts, cut) -> None:
    text = " ".join(parts)  # values delimited as in prose; the pieces themselves are arbitrary
    ex = exchange("chat/completions", chat(("user", text)))
    lenient.resolve(ex)
    lenient.sanitize(ex)
    sent = ex.outbound_body["messages"][0]["content"]
    for value in EMAILS + SECRETS:
        if value in text:
            assert value not in sent
    # whole answer
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": sent}}]}
    restored = ex.restorer.restore_json(answer)
    assert restored["choices"][0]["message"]["content"] == text
    # streamed, split at an arbitrary position
    at = cut % (len(sent) + 1)
    events = [chunk(sent[:at]), chunk(sent[at:]), chunk(finish="stop")]
    assert content_of(run_stream(ex.restorer, events)) == text
