"""Class 10 of the adversarial suite (issue 25): the fields of the Responses and Messages
APIs that were once forwarded unread. Each template places a private value at one field;
each is tried with three canaries (a name + e-mail, the name in an identifier's shape, a
card number as a JSON number). A case leaks if any tell reaches what would leave.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adversarial_cases import Case

EMAIL = "eleanor.vance@example.com"
TEXT = f"Eleanor Vance {EMAIL}"
WORD = "Eleanor_Vance"
CARD = 4111111111111111
TELLS = ("Vance", EMAIL, "4111111111111111")
CIPHER = "EqQBCkYIBxgCKkBq3vZ0tY8Wm2pL+u7Xc1Rr9sN4kDfHjQ6aGe5yTz0oIbVwMnP3lK/8xJ7cE2hUiO1g=="

Build = Callable[[Any], dict[str, Any]]


def r(**top: Any) -> dict[str, Any]:
    return {"model": "gpt-5", "input": "hi", **top}


def r_item(**item: Any) -> dict[str, Any]:
    return r(input=[item])


def r_part(**part: Any) -> dict[str, Any]:
    return r(input=[{"role": "user", "content": [part]}])


def m(*blocks: Any, role: str = "user", **top: Any) -> dict[str, Any]:
    content: Any = list(blocks) if blocks else "hi"
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 16,
        "messages": [{"role": role, "content": content}],
        **top,
    }


RESPONSES: list[tuple[str, Build]] = [
    ("reasoning.summary", lambda v: r(reasoning={"summary": v})),
    ("reasoning extra member", lambda v: r(reasoning={"effort": "low", "x_note": v})),
    ("include entry", lambda v: r(include=[v])),
    ("tool_choice string", lambda v: r(tool_choice=v)),
    ("tool_choice name", lambda v: r(tool_choice={"type": "function", "name": v})),
    ("model", lambda v: {"model": v, "input": "hi"}),
    ("service_tier", lambda v: r(service_tier=v)),
    ("truncation", lambda v: r(truncation=v)),
    ("stream_options extra", lambda v: r(stream_options={"include_obfuscation": True, "x": v})),
    ("context_management", lambda v: r(context_management=[{"type": "compaction", "x": v}])),
    ("prompt_cache_options", lambda v: r(prompt_cache_options={"mode": v})),
    ("background_options", lambda v: r(background_options={"continuation_id": v})),
    ("moderation", lambda v: r(moderation={"model": v})),
    ("conversation id", lambda v: r(conversation=f"conv_{v}")),
    ("previous_response_id", lambda v: r(previous_response_id=f"resp_{v}")),
    ("metadata key", lambda v: r(metadata={str(v): "x"})),
    ("client_metadata", lambda v: r(client_metadata={"session_id": v})),
    ("item name", lambda v: r_item(type="function_call", call_id="c1", name=v, arguments="{}")),
    ("item role", lambda v: r_item(type="message", role=v, content="hi")),
    ("item type", lambda v: r_item(type=v, content="hi")),
    ("item status", lambda v: r_item(type="message", role="user", status=v, content="hi")),
    ("item id", lambda v: r_item(type="message", role="user", id=f"msg_{v}", content="hi")),
    ("item call_id", lambda v: r_item(type="function_call_output", call_id=v, output="ok")),
    ("item extra key", lambda v: r_item(type="message", role="user", content="hi", x_tag=v)),
    ("part extra key", lambda v: r_part(type="input_text", text="hi", x_tag=v)),
    ("part number", lambda v: r_part(type="input_text", text="hi", card=v)),
    ("function tool name", lambda v: r(tools=[{"type": "function", "name": v}])),
    ("function tool extra", lambda v: r(tools=[{"type": "function", "name": "f", "x": v}])),
    ("custom tool format", lambda v: r(tools=[{"type": "custom", "name": "f", "format": v}])),
    ("mcp server_label", lambda v: r(tools=[{"type": "mcp", "server_label": v}])),
    (
        "mcp header name",
        lambda v: r(tools=[{"type": "mcp", "server_label": "s", "headers": {str(v): "token"}}]),
    ),  # fmt: skip
    (
        "function tool headers",
        lambda v: r(tools=[{"type": "function", "name": "f", "headers": {"X": v}}]),
    ),  # fmt: skip
    ("input_file file_id", lambda v: r_part(type="input_file", file_id=f"file-{v}")),
    ("input_file file_url", lambda v: r_part(type="input_file", file_url=f"https://x.example/{v}")),
    ("item_reference extra", lambda v: r_item(type="item_reference", id="msg_1", x=v)),
    (
        "encrypted_content text",
        lambda v: r_item(type="reasoning", id="rs_1", summary=[], encrypted_content=f"gAAAA {v}"),
    ),  # fmt: skip
    ("max_output_tokens", lambda v: r(max_output_tokens=v)),
    ("top-level unknown", lambda v: r(card_number=v)),
    ("x_extra nested", lambda v: r(x_extra={"n": v})),
]

MESSAGES: list[tuple[str, Build]] = [
    (
        "thinking in a user turn",
        lambda v: m({"type": "thinking", "thinking": f"about {v}", "signature": CIPHER}),
    ),  # fmt: skip
    (
        "thinking, short signature",
        lambda v: m(
            {"type": "thinking", "thinking": f"about {v}", "signature": "sig"}, role="assistant"
        ),
    ),  # fmt: skip
    (
        # A session begun without cogate: a genuine-looking signature cogate never relayed.
        "thinking, unknown ciphertext signature",
        lambda v: m(
            {"type": "thinking", "thinking": f"about {v}", "signature": CIPHER}, role="assistant"
        ),
    ),  # fmt: skip
    (
        "redacted_thinking plain data",
        lambda v: m({"type": "redacted_thinking", "data": f"{v}"}),
    ),  # fmt: skip
    (
        "web_search_tool_result title",
        lambda v: m(
            {
                "type": "web_search_tool_result",
                "tool_use_id": "s1",
                "content": [
                    {
                        "type": "web_search_result",
                        "title": f"{v}",
                        "url": "https://e.example/",
                        "encrypted_content": CIPHER,
                    }
                ],
            },
            role="assistant",
        ),
    ),  # fmt: skip
    (
        "web_fetch_tool_result document",
        lambda v: m(
            {
                "type": "web_fetch_tool_result",
                "tool_use_id": "s2",
                "content": {
                    "type": "web_fetch_result",
                    "url": "https://e.example",
                    "content": {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": f"{v}"},
                    },
                },
            },
            role="assistant",
        ),
    ),  # fmt: skip
    (
        "encrypted_stdout plain",
        lambda v: m(
            {
                "type": "code_execution_tool_result",
                "tool_use_id": "c1",
                "content": {
                    "type": "encrypted_code_execution_result",
                    "encrypted_stdout": f"{v}",
                    "return_code": 0,
                    "stderr": "",
                    "content": [],
                },
            },
            role="assistant",
        ),
    ),  # fmt: skip
    (
        "tool_use name",
        lambda v: m(
            {"type": "tool_use", "id": "toolu_1", "name": v, "input": {}}, role="assistant"
        ),
    ),  # fmt: skip
    (
        "tool_use id",
        lambda v: m(
            {"type": "tool_use", "id": f"toolu_{v}", "name": "f", "input": {}}, role="assistant"
        ),
    ),  # fmt: skip
    (
        "tool_use extra key",
        lambda v: m(
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}, "x": v},
            role="assistant",
        ),
    ),  # fmt: skip
    (
        "tool_use input number",
        lambda v: m(
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"n": v}}, role="assistant"
        ),
    ),  # fmt: skip
    (
        "citation url",
        lambda v: m(
            {
                "type": "text",
                "text": "see",
                "citations": [
                    {
                        "type": "web_search_result_location",
                        "url": f"https://x.example/{v}",
                        "title": "t",
                        "cited_text": "c",
                        "encrypted_index": CIPHER,
                    }
                ],
            },
            role="assistant",
        ),
    ),
    (
        "search_result url",
        lambda v: m(
            {
                "type": "search_result",
                "source": f"https://x/{v}",
                "title": "t",
                "content": [{"type": "text", "text": "x"}],
            }
        ),
    ),  # fmt: skip
    (
        "source media_type",
        lambda v: m(
            {"type": "document", "source": {"type": "text", "media_type": v, "data": "hello"}}
        ),
    ),  # fmt: skip
    (
        "cache_control extra",
        lambda v: m({"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "x": v}}),
    ),
    (
        "cache_control ttl",
        lambda v: m(
            {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": v}}
        ),
    ),
    ("tool_choice name", lambda v: m(tool_choice={"type": "tool", "name": v})),
    ("tool_choice extra", lambda v: m(tool_choice={"type": "auto", "x": v})),
    ("container", lambda v: m(container=v)),
    (
        "container skills",
        lambda v: m(container={"skills": [{"type": "custom", "skill_id": v}]}),
    ),  # fmt: skip
    (
        "mcp_servers url",
        lambda v: m(mcp_servers=[{"type": "url", "name": "n", "url": f"https://m.example/{v}"}]),
    ),  # fmt: skip
    (
        "mcp_servers name",
        lambda v: m(mcp_servers=[{"type": "url", "name": v, "url": "https://m.example"}]),
    ),  # fmt: skip
    ("context_management", lambda v: m(context_management={"edits": [{"type": v}]})),
    ("service_tier", lambda v: m(service_tier=v)),
    ("model", lambda v: {**m(), "model": v}),
    ("tool name", lambda v: m(tools=[{"name": v, "input_schema": {"type": "object"}}])),
    (
        "web_search allowed_domains",
        lambda v: m(
            tools=[
                {"type": "web_search_20250305", "name": "web_search", "allowed_domains": [f"{v}"]}
            ]
        ),
    ),
    (
        "allowed_callers",
        lambda v: m(
            tools=[{"name": "f", "input_schema": {"type": "object"}, "allowed_callers": [v]}]
        ),
    ),  # fmt: skip
    (
        "server_tool_use name",
        lambda v: m(
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": v, "input": {}},
            role="assistant",
        ),
    ),
    (
        "container_upload file_id",
        lambda v: m({"type": "container_upload", "file_id": f"file_{v}"}),
    ),  # fmt: skip
    ("tool_reference tool_name", lambda v: m({"type": "tool_reference", "tool_name": v})),
    ("top-level number", lambda v: m(card_number=v)),
    ("metadata user_id", lambda v: m(metadata={"user_id": v})),
]


def cases() -> list[Case]:
    out = []
    for api, route, templates in (
        ("responses", "responses", RESPONSES),
        ("messages", "messages", MESSAGES),
    ):
        for name, build in templates:
            for label, value in (("text", TEXT), ("word", WORD), ("card", CARD)):
                body = build(value)
                out.append(Case(10, "body", body, TELLS, f"{api}: {name} ({label})",
                                {"route": route}))  # fmt: skip
    # The same fields through responses.input_tokens and messages.count_tokens.
    for name, build in RESPONSES[:10]:
        out.append(Case(10, "body", build(TEXT), TELLS, f"input_tokens: {name}",
                        {"route": "responses/input_tokens"}))  # fmt: skip
    for name, build in MESSAGES[:10]:
        out.append(Case(10, "body", build(TEXT), TELLS, f"count_tokens: {name}",
                        {"route": "messages/count_tokens"}))  # fmt: skip
    return out


CLASS_10 = cases()
