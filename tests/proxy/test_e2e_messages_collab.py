"""The anthropic SDK → `cogate serve` in sketch, logits and local modes → a Messages stand-in
on llama.cpp (the app's upstream: sketch's outline) and llama.cpp itself (the
OpenAI-compatible upstream: logits' drafts with logprobs).

Each mode answers in Messages shape, whole and streamed; the private context (the system
text, which the default policy keeps on the device) reaches no upstream; the ledger records
each call that left, with the bytes that left, and local answers as local.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anthropic
import pytest

from tests.servers import cogate_server
from tests.standins.messages_upstream import MessagesUpstream, messages_upstream

pytestmark = pytest.mark.e2e

NAME = "Margarethe Vandersloot"
EMAIL = "margarethe.v@example.org"
STREET = "17 Quillfeather Lane"
PRIVATE = (NAME, EMAIL, STREET, "Vandersloot", "Quillfeather")
SYSTEM = f"I am {NAME}; I live at {STREET} and my email is {EMAIL}. I write plainly."
TASK = [{"role": "user", "content": "Write two sentences asking my landlord to fix a leaking tap."}]


@pytest.fixture(scope="module")
def standin(llama_upstream: str) -> Iterator[MessagesUpstream]:
    with messages_upstream(llama_upstream) as server:
        yield server


@pytest.fixture(scope="module")
def served(
    standin: MessagesUpstream, llama_upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A gateway whose policy runs logits; requests tighten it to sketch or local."""
    work = tmp_path_factory.mktemp("messages-collab")
    policy = work / "policy.yaml"
    policy.write_text("mode: logits\n")
    args = ["--anthropic-upstream", standin.url, "--policy", str(policy)]
    with cogate_server(work, llama_upstream, args=args, env={"COGATE_LOCAL_THREADS": "1"}) as url:
        yield url.removesuffix("/v1"), work / "data"


def client_for(served: tuple[str, Path], mode: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=served[0],
        api_key="sk-ant-app-key",
        max_retries=0,
        timeout=600,
        default_headers={"x-cogate-mode": mode},
    )


def ledger(data_dir: Path) -> list[tuple[dict[str, Any], bytes]]:
    (db,) = list(data_dir.rglob("ledger.sqlite3"))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT entry, body FROM entries ORDER BY rowid").fetchall()
    return [(json.loads(entry), body or b"") for entry, body in rows]


def egress_since(data_dir: Path, count: int) -> list[tuple[dict[str, Any], bytes]]:
    return [(e, b) for e, b in ledger(data_dir)[count:] if e.get("kind") in ("egress", "local")]


def nothing_private_in(*bodies: bytes) -> None:
    for body in bodies:
        for value in PRIVATE:
            assert value.encode() not in body, value


def ask_both_ways(client: anthropic.Anthropic, mode: str) -> str:
    """One whole and one streamed answer in Messages shape; returns the streamed text."""
    raw = client.messages.with_raw_response.create(
        model="smollm2", max_tokens=24, system=SYSTEM, messages=TASK
    )
    assert raw.headers["x-cogate-mode"] == mode and raw.headers["x-cogate-audit-id"]
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text" and message.content[0].text.strip()
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    with client.messages.stream(
        model="smollm2", max_tokens=24, system=SYSTEM, messages=TASK
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == final.content[0].text and len(pieces) > 1
    assert final.stop_reason in ("end_turn", "max_tokens")
    return final.content[0].text


def test_sketch_outline_comes_from_the_messages_upstream(
    served: tuple[str, Path], standin: MessagesUpstream
) -> None:
    since, before = len(standin.received), len(ledger(served[1]))
    ask_both_ways(client_for(served, "sketch"), "sketch")
    outlines = standin.received[since:]
    assert [r.path for r in outlines] == ["/v1/messages", "/v1/messages"]
    # The app's own credentials, as its SDK sent them.
    assert all(r.headers.get("authorization") == "Bearer sk-ant-app-key" for r in outlines)
    nothing_private_in(*(r.body for r in outlines))
    left = egress_since(served[1], before)
    assert [e["destination"]["path"] for e, _ in left] == ["/v1/messages", "/v1/messages"]
    # The ledger holds the very bytes the stand-in received.
    assert [b for _, b in left] == [r.body for r in outlines]


def test_logits_drafts_go_to_the_openai_compatible_upstream_only(
    served: tuple[str, Path], standin: MessagesUpstream, llama_upstream: str
) -> None:
    since, before = len(standin.received), len(ledger(served[1]))
    ask_both_ways(client_for(served, "logits"), "logits")
    assert len(standin.received) == since  # the Messages upstream has no logprobs to give
    left = egress_since(served[1], before)
    assert left, "no draft call was recorded"
    llama = urlsplit(llama_upstream).netloc
    assert {e["destination"]["host"] for e, _ in left} == {llama}
    assert {e["destination"]["path"] for e, _ in left} == {"/v1/completions"}
    nothing_private_in(*(b for _, b in left))
    assert not any(b"sk-ant-app-key" in b for _, b in left)


def test_local_answers_on_the_device(served: tuple[str, Path], standin: MessagesUpstream) -> None:
    client = client_for(served, "local")
    since, before = len(standin.received), len(ledger(served[1]))
    ask_both_ways(client, "local")
    counted = client.messages.count_tokens(model="smollm2", system=SYSTEM, messages=TASK)
    assert counted.input_tokens > 0
    assert len(standin.received) == since
    left = egress_since(served[1], before)
    assert len(left) == 3 and {e["kind"] for e, _ in left} == {"local"}
