"""Table tests for issue 13 leak classes 1 (JSON numbers), 4 (unscanned fields),
7 (placeholder-shaped user text): each row is a request body and what must (not) leave."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from cogate.core.errors import BadRequest, PolicyBlocked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import exchange

EMAIL = "eleanor.vance@hillhouse.example.com"
CARD = 4111111111111111


def msgs(*messages: dict, **extra: Any) -> dict:
    return {"model": "gpt-4o", "messages": list(messages), **extra}


def call(arguments: Any, name: str = "lookup", **extra: Any) -> dict:
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": name, "arguments": arguments, **extra},
            }
        ],
    }


def tool_result(result: Any, **extra: Any) -> dict:
    return {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(result), **extra}


USER = {"role": "user", "content": "hi"}


def sanitized(engine, body: dict, conversation: str | None = None):
    original = copy.deepcopy(body)
    ex = exchange("chat/completions", body, conversation=conversation)
    engine.resolve(ex)
    engine.sanitize(ex)
    assert ex.body == original, "the app's body must never be changed"
    return ex, json.dumps(ex.outbound_body, ensure_ascii=False)


# -- class 1: numbers in JSON ------------------------------------------------------------

BLOCKED_NUMBERS = [
    ("tool arguments", msgs(call({"card_number": CARD}))),
    ("tool result", msgs(tool_result({"card": CARD}))),
    ("tool result, nested list", msgs(tool_result({"cards": [{"n": CARD}]}))),
    ("metadata", msgs(USER, metadata={"card": CARD})),
    ("seed setting", msgs(USER, seed=CARD)),
    ("bare JSON number as tool result", msgs(tool_result(CARD))),
]


@pytest.mark.parametrize(("name", "body"), BLOCKED_NUMBERS, ids=[c[0] for c in BLOCKED_NUMBERS])
def test_a_card_number_as_a_json_number_is_blocked(privacy, name, body) -> None:
    with pytest.raises(PolicyBlocked, match="CREDIT_CARD"):
        sanitized(privacy, body)


PSEUDONYMIZED_NUMBERS = [
    ("phone and ssn in arguments", msgs(call({"phone": 4155550199, "ssn": 536228841}))),
    ("phone in a tool result", msgs(tool_result({"phone": 4155550199, "ssn": 536228841}))),
    ("phone in metadata", msgs(USER, metadata={"phone": 4155550199})),
]


@pytest.mark.parametrize(
    ("name", "body"), PSEUDONYMIZED_NUMBERS, ids=[c[0] for c in PSEUDONYMIZED_NUMBERS]
)
def test_numbers_are_scanned_with_their_key(privacy, name, body) -> None:
    ex, sent = sanitized(privacy, body)
    assert "4155550199" not in sent
    assert "536228841" not in sent
    assert {t for t, _ in ex.removed} >= {"PHONE_NUMBER"}


def test_a_replaced_number_becomes_a_string_placeholder(lenient) -> None:
    ex, _ = sanitized(lenient, msgs(call({"phone": 4155550199, "count": 3})))
    arguments = json.loads(
        ex.outbound_body["messages"][0]["tool_calls"][0]["function"]["arguments"]
    )
    assert arguments == {"phone": "[PHONE_1]", "count": 3}
    restored = ex.restorer.restore_json(ex.outbound_body)
    assert "4155550199" in json.dumps(restored)


HARMLESS = {"count": 3, "valid": True, "none": None, "ratio": 0.25, "year": 2024, "big": 12}


@pytest.mark.parametrize(
    "body",
    [msgs(call(HARMLESS)), msgs(tool_result(HARMLESS)), msgs(USER, metadata=HARMLESS)],
    ids=["arguments", "result", "metadata"],
)
def test_harmless_numbers_booleans_and_null_are_kept(privacy, body) -> None:
    ex, sent = sanitized(privacy, body)
    assert not ex.findings
    assert ex.outbound_body == body


# -- class 4: keys, settings, identifiers, split parts -----------------------------------

SCHEMA_TOOL = {
    "type": "function",
    "function": {
        "name": "rate",
        "parameters": {
            "type": "object",
            "properties": {EMAIL: {"type": "integer"}},
            "required": [EMAIL],
        },
    },
}
PATTERN_TOOL = {
    "type": "function",
    "function": {
        "name": "check",
        "parameters": {
            "type": "object",
            "properties": {
                "who": {"type": "string", "pattern": "^eleanor\\.vance@hillhouse\\.example\\.com$"}
            },
        },
    },
}
CONTENT_PARTS = [{"type": "text", "text": "hi", "x_note": EMAIL}]

SCANNED_FIELDS = [
    ("key in tool arguments", msgs(call({"scores": {EMAIL: 3}}))),
    ("key in a tool result", msgs(tool_result({"scores": {EMAIL: 3}}))),
    ("key in metadata", msgs(USER, metadata={EMAIL: "owner"})),
    ("key in a schema and required", msgs(USER, tools=[SCHEMA_TOOL])),
    ("schema pattern", msgs(USER, tools=[PATTERN_TOOL])),
    ("extra key in a text part", msgs({"role": "user", "content": CONTENT_PARTS})),
]


@pytest.mark.parametrize(("name", "body"), SCANNED_FIELDS, ids=[c[0] for c in SCANNED_FIELDS])
def test_keys_and_extra_members_are_scanned(privacy, name, body) -> None:
    ex, sent = sanitized(privacy, body)
    assert "eleanor" not in sent.casefold()
    assert "hillhouse" not in sent.casefold()
    assert ("EMAIL_ADDRESS", EMAIL) in ex.removed


# Issue 25: an unknown member that carries text is refused naming it (it was scanned).
REFUSED_MEMBERS = [
    ("extra key in tool_calls[].function", msgs(call("{}", x_owner=EMAIL))),
    (
        "extra key in function_call",
        msgs({"role": "assistant", "function_call": {"name": "f", "arguments": "{}", "o": EMAIL}}),
    ),
    ("stream_options extra member", msgs(USER, stream_options={"include_usage": True, "o": EMAIL})),
    (
        "tool_choice extra member",
        msgs(USER, tool_choice={"type": "function", "function": {"name": "f"}, "o": EMAIL}),
    ),
    ("unknown top-level field", msgs(USER, x_billing={"pan": CARD})),
]


@pytest.mark.parametrize(("name", "body"), REFUSED_MEMBERS, ids=[c[0] for c in REFUSED_MEMBERS])
def test_unknown_members_with_text_are_refused_naming_them(privacy, name, body) -> None:
    with pytest.raises(BadRequest) as refused:
        sanitized(privacy, body)
    assert refused.value.param and refused.value.param.split(".")[0].split("[")[0] in body
    assert EMAIL not in refused.value.message and str(CARD) not in refused.value.message


def test_schema_keys_stay_equal_to_their_required_names(privacy) -> None:
    ex, _ = sanitized(privacy, msgs(USER, tools=[SCHEMA_TOOL]))
    parameters = ex.outbound_body["tools"][0]["function"]["parameters"]
    assert parameters["required"] == list(parameters["properties"])


NAME = "Margaret_Thornbury"
IDENTIFIERS = [
    ("message name", msgs({"role": "user", "name": NAME, "content": "hi"})),
    ("tool name", msgs(USER, tools=[{"type": "function", "function": {"name": NAME}}])),
    ("tool_call_id", msgs({"role": "tool", "tool_call_id": NAME, "content": "done"})),
    ("tool call function name", msgs(call("{}", name=NAME))),
    (
        "tool_choice function name",
        msgs(USER, tool_choice={"type": "function", "function": {"name": NAME}}),
    ),
    ("audio id", msgs({"role": "assistant", "audio": {"id": NAME}})),
]


@pytest.mark.parametrize(("name", "body"), IDENTIFIERS, ids=[c[0] for c in IDENTIFIERS])
def test_identifiers_are_scanned_as_words(privacy, name, body) -> None:
    ex, sent = sanitized(privacy, body)
    assert "Thornbury" not in sent and "Margaret" not in sent
    assert re.search(r'"\[PERSON_\d+\]"', sent), "the whole identifier is one placeholder"


REFUSED = [
    ("model with free text", {**msgs(USER), "model": "gpt-4o for Eleanor Vance"}, "model"),
    ("service_tier with an email", msgs(USER, service_tier=EMAIL), "service_tier"),
    (
        "modalities with free text",
        msgs(USER, modalities=["text", "Eleanor Vance"]),
        "modalities[1]",
    ),
    ("logit_bias keyed by text", msgs(USER, logit_bias={EMAIL: 5}), "logit_bias"),
    ("logit_bias keyed by a long number", msgs(USER, logit_bias={str(CARD): 1}), "logit_bias"),
    ("tool_choice free text", msgs(USER, tool_choice="call Eleanor Vance"), "tool_choice"),
    ("stream flag as text", msgs(USER, stream=EMAIL), "stream"),
    ("temperature as text", msgs(USER, temperature=EMAIL), "temperature"),
    ("audio with data", msgs({"role": "assistant", "audio": {"id": "a", "data": EMAIL}}), "audio"),
    (
        "tool_call_id with an email",
        msgs({"role": "tool", "tool_call_id": EMAIL, "content": "x"}),
        "tool_call_id",
    ),
    (
        "tool name with spaces",
        msgs(USER, tools=[{"type": "function", "function": {"name": "Eleanor Vance"}}]),
        "name",
    ),
]


@pytest.mark.parametrize(("name", "body", "field"), REFUSED, ids=[c[0] for c in REFUSED])
def test_off_shape_settings_are_refused_naming_the_field(privacy, name, body, field) -> None:
    with pytest.raises(BadRequest, match=field.replace("[", "\\[").replace("]", "\\]")) as error:
        sanitized(privacy, body)
    assert "eleanor" not in error.value.message.casefold(), "an error never quotes the value"
    assert "Fix the value" in error.value.message


KEPT = [
    ("tool_choice word", msgs(USER, tool_choice="auto")),
    (
        "tool_choice function",
        msgs(USER, tool_choice={"type": "function", "function": {"name": "get_weather"}}),
    ),
    ("stream_options", msgs(USER, stream=True, stream_options={"include_usage": True})),
    ("logit_bias", msgs(USER, logit_bias={"50256": -100, "13": 5})),
    (
        "enums and numbers",
        msgs(USER, service_tier="auto", modalities=["text"], temperature=0.2, n=1, seed=42),
    ),
    (
        "reasoning",
        msgs(USER, reasoning_effort="low", verbosity="medium", max_completion_tokens=4096),
    ),
    ("model names", {**msgs(USER), "model": "claude-3-5-sonnet-20241022"}),
    ("model path", {**msgs(USER), "model": "meta-llama/Llama-3.1-8B-Instruct"}),
    ("tool call ids", msgs(call("{}", name="get_weather"), tool_result({"temp_c": 21}))),
    ("audio reference", msgs({"role": "assistant", "audio": {"id": "audio_abc123"}})),
    (
        "schema",
        msgs(
            USER,
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "search_docs",
                        "parameters": {
                            "type": "object",
                            "properties": {
                                "query": {
                                    "type": "string",
                                    "format": "date-time",
                                    "pattern": "^\\d{4}$",
                                }
                            },
                            "required": ["query"],
                        },
                    },
                }
            ],
        ),
    ),
]


@pytest.mark.parametrize(("name", "body"), KEPT, ids=[c[0] for c in KEPT])
def test_well_shaped_settings_pass_unchanged(privacy, name, body) -> None:
    ex, _ = sanitized(privacy, body)
    assert ex.outbound_body == body
    assert not ex.findings


def parts(*texts: str) -> dict:
    return msgs({"role": "user", "content": [{"type": "text", "text": t} for t in texts]})


def test_a_name_split_across_two_parts_is_found(privacy) -> None:
    ex, sent = sanitized(privacy, parts("Please greet Marg", "aret Thornbury."))
    assert "Marg" not in sent and "Thornbury" not in sent
    content = ex.outbound_body["messages"][0]["content"]
    assert re.fullmatch(r"Please greet \[PERSON_\d+\]", content[0]["text"])
    assert content[1]["text"] == "."
    restored = ex.restorer.restore_json(ex.outbound_body)["messages"][0]["content"]
    assert "".join(p["text"] for p in restored) == "Please greet Margaret Thornbury."


def test_an_email_split_across_string_parts_is_found(privacy) -> None:
    body = msgs(
        {"role": "user", "content": ["write to eleanor.vance@hill", "house.example.com now"]}
    )
    ex, sent = sanitized(privacy, body)
    assert "eleanor" not in sent and "house.example" not in sent


def test_a_card_number_in_two_halves_is_blocked(privacy) -> None:
    with pytest.raises(PolicyBlocked, match="CREDIT_CARD"):
        sanitized(privacy, parts("my card is 4111 1111", " 1111 1111, thanks"))


def test_parts_without_a_split_value_are_kept_apart(privacy) -> None:
    ex, _ = sanitized(privacy, parts("Read the notes below.", " The meeting moved to room 4."))
    assert [p["text"] for p in ex.outbound_body["messages"][0]["content"]] == [
        "Read the notes below.",
        " The meeting moved to room 4.",
    ]


# -- class 7: placeholder-shaped text the user typed -------------------------------------

TYPED = [
    "[PERSON_1]",
    "PERSON_1",
    "[person 1]",
    "&lt;PERSON_1&gt;",
    "\\[PERSON\\_1\\]",
    "[ Person - 1 ]",
    "<EMAIL_1>",
]


@pytest.mark.parametrize("typed", TYPED)
def test_typed_placeholders_never_restore_to_a_real_value(privacy, typed) -> None:
    first = msgs({"role": "user", "content": f"I am Margaret Thornbury, mail {EMAIL}."})
    sanitized(privacy, first, conversation=f"c7-{typed}")
    later = msgs(
        {"role": "user", "content": f"I am Margaret Thornbury, mail {EMAIL}."},
        {"role": "user", "content": f"What does {typed} mean in my template?"},
    )
    ex, _ = sanitized(privacy, later, conversation=f"c7-{typed}")
    sent = ex.outbound_body["messages"][1]["content"]
    assert typed not in sent, "placeholder-shaped user text leaves escaped"
    # The model echoes what it was sent: the app gets its own literal text back.
    echoed = ex.restorer.restore_json({"content": sent})["content"]
    assert echoed == f"What does {typed} mean in my template?"
    assert "Margaret" not in echoed and "eleanor" not in echoed


@pytest.mark.parametrize(
    "text", ["UTF_8 and ISO_8601", "<h1>Title</h1>", "see [1] and [2]", "HTTP_2"]
)
def test_text_that_no_label_names_is_left_alone(privacy, text) -> None:
    ex, _ = sanitized(privacy, msgs({"role": "user", "content": text}))
    assert ex.outbound_body["messages"][0]["content"] == text


def test_model_placeholders_still_restore_next_to_an_escaped_literal(privacy) -> None:
    body = msgs({"role": "user", "content": "Write to Margaret Thornbury; keep [PERSON_1] as is."})
    ex, _ = sanitized(privacy, body, conversation="c7-mangled")
    sent = ex.outbound_body["messages"][0]["content"]
    assert "Margaret" not in sent and "[PERSON_1]" not in sent
    answer = sent.replace("Write to ", "Dear ").replace("[PERSON_", "[ person _ ")
    restored = ex.restorer.restore_json({"content": answer})["content"]
    assert restored.startswith("Dear Margaret Thornbury")
    assert restored.endswith("keep [PERSON_1] as is.")


# Property: whatever placeholder-shaped text a user types, in whatever form, next to real
# values, the echo of what left restores exactly the user's text.
TYPED_FORMS = st.sampled_from(
    [*TYPED, "[EMAIL_2]", "[PHONE_1]", "LOCATION_3", "&#91;PERSON_2&#93;", "[LITERAL_1]"]
)
REAL = st.sampled_from(["Margaret Thornbury", EMAIL, "+44 20 7946 0958", "Tom Baker"])
FILLER = st.sampled_from([" ", ", ", " and ", " then ", ".\n", " see [1] "])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(st.one_of(TYPED_FORMS, REAL, FILLER), min_size=1, max_size=8))
def test_typed_placeholders_round_trip_exactly(privacy, pieces) -> None:
    text = " ".join(pieces)
    ex, _ = sanitized(privacy, msgs({"role": "user", "content": text}), conversation="c7-prop")
    sent = ex.outbound_body["messages"][0]["content"]
    # A typed form left as is would come back as the real value it names: the echo of what
    # left must be exactly the user's text (a minted placeholder may coincide with a typed
    # one in spelling; the typed one never leaves unescaped).
    assert "Margaret" not in sent and "eleanor" not in sent
    assert ex.restorer.restore_json({"content": sent})["content"] == text
