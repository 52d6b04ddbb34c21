"""Field conformance: a private value in each outbound field is found and replaced."""

from __future__ import annotations

import copy
import json

import pytest
from cogate.core.errors import PolicyBlocked

from .conftest import exchange

EMAIL = "isabel.martinez@example.com"
ARGS = json.dumps({"to": EMAIL, "subject": "hi"})
TOOL = {
    "type": "function",
    "function": {
        "name": "send_mail",
        "description": f"Send mail as {EMAIL}",
        "parameters": {
            "type": "object",
            "required": ["to"],
            "properties": {"to": {"type": "string", "description": f"for example {EMAIL}"}},
        },
    },
}


def msgs(*messages: dict) -> dict:
    return {"model": "gpt-4o", "messages": list(messages)}


# (field, route, body, the field path a finding must name)
FIELDS = [
    (
        "system message",
        "chat/completions",
        msgs({"role": "system", "content": f"User email: {EMAIL}"}),
        "messages[0].content",
    ),
    (
        "developer message",
        "chat/completions",
        msgs({"role": "developer", "content": f"User email: {EMAIL}"}),
        "messages[0].content",
    ),
    (
        "user message",
        "chat/completions",
        msgs({"role": "user", "content": f"Mail {EMAIL}"}),
        "messages[0].content",
    ),
    (
        "assistant message",
        "chat/completions",
        msgs({"role": "assistant", "content": f"I wrote to {EMAIL}"}),
        "messages[0].content",
    ),
    (
        "user content part",
        "chat/completions",
        msgs({"role": "user", "content": [{"type": "text", "text": f"Mail {EMAIL}"}]}),
        "messages[0].content[0].text",
    ),
    (
        "system content part",
        "chat/completions",
        msgs({"role": "system", "content": [{"type": "text", "text": f"Mail {EMAIL}"}]}),
        "messages[0].content[0].text",
    ),
    (
        "message name",
        "chat/completions",
        msgs({"role": "user", "name": EMAIL, "content": "hi"}),
        "messages[0].name",
    ),
    (
        "tool_calls arguments",
        "chat/completions",
        msgs(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "send_mail", "arguments": ARGS},
                    }
                ],
            }
        ),
        "messages[0].tool_calls[0].function.arguments.to",
    ),
    (
        "tool result (JSON)",
        "chat/completions",
        msgs({"role": "tool", "tool_call_id": "c1", "content": json.dumps({"sent_to": EMAIL})}),
        "messages[0].content.sent_to",
    ),
    (
        "tool result (text)",
        "chat/completions",
        msgs({"role": "tool", "tool_call_id": "c1", "content": f"sent to {EMAIL}"}),
        "messages[0].content",
    ),
    (
        "tool result (parts)",
        "chat/completions",
        msgs(
            {
                "role": "tool",
                "tool_call_id": "c1",
                "content": [{"type": "text", "text": f"sent to {EMAIL}"}],
            }
        ),
        "messages[0].content[0].text",
    ),
    (
        "legacy function_call",
        "chat/completions",
        msgs(
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "send_mail", "arguments": ARGS},
            }
        ),
        "messages[0].function_call.arguments.to",
    ),
    (
        "legacy function result",
        "chat/completions",
        msgs({"role": "function", "name": "send_mail", "content": f"sent to {EMAIL}"}),
        "messages[0].content",
    ),
    (
        "assistant refusal",
        "chat/completions",
        msgs({"role": "assistant", "content": None, "refusal": f"I won't mail {EMAIL}"}),
        "messages[0].refusal",
    ),
    (
        "tool description",
        "chat/completions",
        {**msgs({"role": "user", "content": "hi"}), "tools": [TOOL]},
        "tools[0].function.description",
    ),
    (
        "tool parameter description",
        "chat/completions",
        {**msgs({"role": "user", "content": "hi"}), "tools": [TOOL]},
        "tools[0].function.parameters.properties.to.description",
    ),
    (
        "legacy functions",
        "chat/completions",
        {**msgs({"role": "user", "content": "hi"}), "functions": [TOOL["function"]]},
        "functions[0].description",
    ),
    (
        "response_format schema",
        "chat/completions",
        {
            **msgs({"role": "user", "content": "hi"}),
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "r",
                    "description": f"for {EMAIL}",
                    "schema": {"type": "object"},
                },
            },
        },
        "response_format.json_schema.description",
    ),
    (
        "user",
        "chat/completions",
        {**msgs({"role": "user", "content": "hi"}), "user": EMAIL},
        "user",
    ),
    (
        "metadata",
        "chat/completions",
        {**msgs({"role": "user", "content": "hi"}), "metadata": {"owner": EMAIL}},
        "metadata.owner",
    ),
    ("completions prompt", "completions", {"model": "m", "prompt": f"Mail {EMAIL}"}, "prompt"),
    (
        "completions prompt list",
        "completions",
        {"model": "m", "prompt": ["hi", f"Mail {EMAIL}"]},
        "prompt[1]",
    ),
    (
        "completions suffix",
        "completions",
        {"model": "m", "prompt": "hi", "suffix": f"from {EMAIL}"},
        "suffix",
    ),
    ("completions user", "completions", {"model": "m", "prompt": "hi", "user": EMAIL}, "user"),
    ("embeddings input", "embeddings", {"model": "m", "input": f"Mail {EMAIL}"}, "input"),
    (
        "embeddings input list",
        "embeddings",
        {"model": "m", "input": ["hi", f"Mail {EMAIL}"]},
        "input[1]",
    ),
    ("embeddings user", "embeddings", {"model": "m", "input": "hi", "user": EMAIL}, "user"),
]


@pytest.mark.parametrize(("name", "route", "body", "path"), FIELDS, ids=[f[0] for f in FIELDS])
def test_every_outbound_field_is_redacted(lenient, name, route, body, path) -> None:
    original = copy.deepcopy(body)
    ex = exchange(route, body)
    lenient.resolve(ex)
    lenient.sanitize(ex)
    assert ex.body == original, "the app's body must never be changed"
    sent = json.dumps(ex.outbound_body)
    assert EMAIL not in sent
    assert "[EMAIL_1]" in sent
    assert path in [f.field for f in ex.findings]
    assert set(ex.removed) == {("EMAIL_ADDRESS", EMAIL)}
    # the answer echoing the placeholder gets the value back
    assert EMAIL in json.dumps(ex.restorer.restore_json(ex.outbound_body))


def test_tool_arguments_stay_valid_json(lenient) -> None:
    body = FIELDS[7][2]
    ex = exchange("chat/completions", body)
    lenient.resolve(ex)
    lenient.sanitize(ex)
    arguments = ex.outbound_body["messages"][0]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(arguments) == {"to": "[EMAIL_1]", "subject": "hi"}


def test_tool_names_and_schema_structure_are_kept(lenient) -> None:
    ex = exchange("chat/completions", {**msgs({"role": "user", "content": "hi"}), "tools": [TOOL]})
    lenient.resolve(ex)
    lenient.sanitize(ex)
    tool = ex.outbound_body["tools"][0]["function"]
    assert tool["name"] == "send_mail"
    assert tool["parameters"]["required"] == ["to"]
    assert tool["parameters"]["properties"]["to"]["type"] == "string"


IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
AUDIO = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}


@pytest.mark.parametrize(
    ("route", "body", "kind"),
    [
        ("chat/completions", msgs({"role": "user", "content": [IMAGE]}), "image_url"),
        ("chat/completions", msgs({"role": "user", "content": [AUDIO]}), "input_audio"),
        (
            "chat/completions",
            msgs({"role": "user", "content": [{"type": "file", "file": {}}]}),
            "file",
        ),
        ("completions", {"model": "m", "prompt": [1, 2, 3]}, "token_ids"),
        ("embeddings", {"model": "m", "input": [[1, 2], [3]]}, "token_ids"),
    ],
)
def test_unscannable_content_is_refused_by_default(privacy, route, body, kind) -> None:
    ex = exchange(route, body)
    privacy.resolve(ex)
    with pytest.raises(PolicyBlocked, match=f"cannot scan \\({kind} at"):
        privacy.sanitize(ex)


def test_unscannable_drop_and_allow(make_privacy) -> None:
    body = msgs({"role": "user", "content": [{"type": "text", "text": "look"}, IMAGE]})
    dropping = make_privacy("unscannable: drop\n")
    ex = exchange("chat/completions", body)
    dropping.resolve(ex)
    dropping.sanitize(ex)
    assert ex.outbound_body["messages"][0]["content"] == [{"type": "text", "text": "look"}]
    allowing = make_privacy("unscannable: allow\n")
    ex = exchange("chat/completions", body)
    allowing.resolve(ex)
    allowing.sanitize(ex)
    assert ex.outbound_body["messages"][0]["content"][1] == IMAGE
