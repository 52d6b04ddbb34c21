"""The sketch and local runners through the real egress gate, a scripted cloud (MockTransport)
and an in-memory ledger: what leaves, what the app gets back, and the fallback."""

from __future__ import annotations

import json

import httpx
import pytest
from cogate.collab import build_collab
from cogate.collab.cogenesis import (
    leaks,
    load_samples,
    payload_texts,
    private_items,
    request_messages,
)
from cogate.collab.runtime import LocalModel
from cogate.core.errors import UpstreamUnreachable
from cogate.core.settings import Settings
from cogate.proxy.surfaces import exchange_for

from .doubles import WordPrivacy, exchange, gate_for, policy

pytestmark = pytest.mark.anyio

OUTLINE = {"choices": [{"message": {"role": "assistant", "content": "- greet\n- thank\n- close"}}]}


def cloud(sent: list[dict], status: int = 200, reply: dict | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(status, json=reply if reply is not None else OUTLINE)

    return handler


def runners(model: LocalModel, privacy=None):
    collab = build_collab(Settings(), privacy or WordPrivacy({}), model=model)
    assert set(collab.runners) == {"sketch", "local"}
    return collab.runners


def body(messages, **extra) -> dict:
    return {
        "model": "cloud-model",
        "messages": messages,
        "max_tokens": 6,
        "temperature": 0,
        **extra,
    }


async def read(reply) -> bytes:
    if reply.stream is None:
        return reply.body
    return b"".join([chunk async for chunk in reply.stream])


def events(raw: bytes) -> list:
    out = []
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            data = block[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


async def test_sketch_outbound_keeps_private_items_local(local_model: LocalModel, data_dir) -> None:
    """On CoGenesis samples in both layouts, the one body that would leave names nobody."""
    for sample in load_samples(data_dir, 12):
        items = private_items(sample)
        privacy = WordPrivacy({items.name: "PERSON"})
        for layout in ("sections", "system"):
            ex = exchange(body(request_messages(sample, layout)))
            prepared = await runners(local_model, privacy)["sketch"].prepare(ex)
            found = leaks(items, payload_texts(prepared.body))
            assert {k: v[0] for k, v in found.items() if k != "clauses"} == {
                "name_full": 0,
                "name_first": 0,
                "name_last": 0,
                "city": 0,
                "quoted": 0,
            }, prepared.body
            assert "Writing History" not in json.dumps(prepared.body)
            assert prepared.body["messages"][1]["content"].startswith("Outline this writing task:")


async def test_sketch_answers_locally_and_audits_what_left(
    local_model: LocalModel, data_dir
) -> None:
    sample = load_samples(data_dir, 1)[0]
    items = private_items(sample)
    sent: list[dict] = []
    gate, ledger = gate_for(cloud(sent))
    privacy = WordPrivacy({items.name: "PERSON", "Miami": "LOCATION"})
    ex = exchange(body(request_messages(sample, "system", history=1)))
    reply = await runners(local_model, privacy)["sketch"].run(ex, gate)
    assert reply.status == 200
    answer = json.loads(await read(reply))
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"]
    # the local model read the private context: far more than the task alone
    assert answer["usage"]["prompt_tokens"] == ex.notes["local_prompt_tokens"] > 300
    assert len(sent) == 1 and len(ledger.egress) == 1
    record = ledger.egress[0]
    assert json.loads(record.body) == sent[0] == ex.outbound_body  # the ledger holds what left
    assert record.mode == "sketch" and record.destination_path == "/v1/chat/completions"
    assert sent[0]["model"] == "cloud-model"
    assert items.first not in json.dumps(sent) and "Miami" not in json.dumps(sent)
    kept = record.note["kept_local"]  # what stayed on the device, as counts (issue 29)
    assert kept["sections"] >= 1 and kept["chars"] > 300 and kept["terms"] >= 1
    assert items.first not in json.dumps(record.note)


async def test_sketch_streams_chunks_with_usage(local_model: LocalModel) -> None:
    sent: list[dict] = []
    gate, _ = gate_for(cloud(sent))
    messages = [
        {"role": "system", "content": "I am Ana, I live in Porto."},
        {"role": "user", "content": "Write a short note: to my neighbour."},
    ]
    ex = exchange(body(messages, stream=True, stream_options={"include_usage": True}))
    reply = await runners(local_model)["sketch"].run(ex, gate)
    assert reply.media_type == "text/event-stream"
    got = events(await read(reply))
    assert got[-1] == "[DONE]"
    assert got[0]["choices"][0]["delta"]["role"] == "assistant"
    assert got[-3]["choices"][0]["finish_reason"] in ("stop", "length")
    usage = got[-2]["usage"]
    assert got[-2]["choices"] == [] and usage["completion_tokens"] <= 6
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in got[:-2] if e["choices"])
    assert text
    assert sent[0]["messages"][1]["content"] == "Outline this writing task: Write a short note"
    assert "Ana" not in json.dumps(sent) and "Porto" not in json.dumps(sent)


async def test_sketch_returns_the_upstream_error_without_fallback(local_model: LocalModel) -> None:
    sent: list[dict] = []
    error = {"error": {"message": "quota", "type": "insufficient_quota", "code": "quota"}}
    gate, ledger = gate_for(cloud(sent, status=429, reply=error))
    ex = exchange(body([{"role": "user", "content": "Write a poem: about tea."}]))
    reply = await runners(local_model)["sketch"].run(ex, gate)
    assert reply.status == 429 and json.loads(reply.body) == error
    assert "x-cogate-fallback" not in ex.response_headers
    await gate.drain()  # completion entries are written after the reply
    assert ledger.completions[0].outcome == "upstream_error"


async def test_sketch_falls_back_to_local_when_the_policy_allows(local_model: LocalModel) -> None:
    sent: list[dict] = []
    gate, _ = gate_for(cloud(sent, status=500, reply={"error": {"message": "down"}}))
    ex = exchange(
        body([{"role": "user", "content": "Write a poem: about tea."}]), fallback_local=True
    )
    reply = await runners(local_model)["sketch"].run(ex, gate)
    assert reply.status == 200
    assert ex.response_headers["x-cogate-fallback"] == "local; reason=upstream_status_500"
    assert json.loads(reply.body)["choices"][0]["message"]["content"]


async def test_sketch_unreachable_cloud(local_model: LocalModel) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    gate, _ = gate_for(down)
    ex = exchange(body([{"role": "user", "content": "Write a poem: about tea."}]))
    with pytest.raises(UpstreamUnreachable):
        await runners(local_model)["sketch"].run(ex, gate)
    ex = exchange(
        body([{"role": "user", "content": "Write a poem: about tea."}]), fallback_local=True
    )
    reply = await runners(local_model)["sketch"].run(ex, gate)
    assert reply.status == 200
    assert ex.response_headers["x-cogate-fallback"] == "local; reason=upstream_unreachable"


async def test_sketch_refuses_a_request_with_no_instruction(local_model: LocalModel) -> None:
    from cogate.core.errors import BadRequest

    sent: list[dict] = []
    gate, ledger = gate_for(cloud(sent))
    ex = exchange(body([{"role": "user", "content": "<private>everything</private>"}]))
    with pytest.raises(BadRequest, match="nothing is left"):
        await runners(local_model)["sketch"].run(ex, gate)
    assert sent == [] and ledger.egress == []


async def test_local_sends_nothing_and_records_it(local_model: LocalModel) -> None:
    sent: list[dict] = []
    gate, ledger = gate_for(cloud(sent))
    ex = exchange(body([{"role": "user", "content": "My name is Ana. Say hi."}]), mode="local")
    reply = await runners(local_model)["local"].run(ex, gate)
    answer = json.loads(await read(reply))
    assert answer["choices"][0]["message"]["content"]
    assert answer["usage"]["prompt_tokens"] == len(
        local_model.chat_prompt([{"role": "user", "content": "My name is Ana. Say hi."}])
    )
    assert sent == []
    assert [(r.kind, r.destination_host, r.body) for r in ledger.egress] == [
        ("local", "local", b"")
    ]
    assert ex.audit_ids


async def test_local_streams(local_model: LocalModel) -> None:
    gate, _ = gate_for(cloud([]))
    ex = exchange(body([{"role": "user", "content": "Say hi."}], stream=True), mode="local")
    got = events(await read(await runners(local_model)["local"].run(ex, gate)))
    assert got[-1] == "[DONE]" and all("usage" not in e for e in got[:-1])
    assert ex.usage["completion_tokens"] >= 1


async def test_local_refuses_other_routes_and_lists_its_model(local_model: LocalModel) -> None:
    from cogate.core.errors import BadRequest

    gate, _ = gate_for(cloud([]))
    for route in ("embeddings", "completions"):
        ex = exchange_for(route, {"model": "m", "input": "x", "prompt": "x"}, app="test")
        ex.policy, ex.mode = policy(), "local"
        with pytest.raises(BadRequest, match="chat/completions"):
            await runners(local_model)["local"].run(ex, gate)
        with pytest.raises(BadRequest, match="chat/completions"):
            await runners(local_model)["sketch"].run(ex, gate)
    ex = exchange_for("models", {}, app="test")
    ex.policy, ex.mode = policy(), "local"
    listing = json.loads((await runners(local_model)["local"].run(ex, gate)).body)
    assert listing["data"][0]["id"] == local_model.name


SENSITIVE = (
    "Write a short note to my boss explaining that my bipolar disorder relapse and lithium "
    "adjustment mean I need two weeks off."
)
PROFILE = "Name: Dana Whitfield\nOccupation: Analyst at Northwind Traders"


def sensitive_exchange(choice: str, task: str = SENSITIVE):
    messages = [{"role": "system", "content": PROFILE}, {"role": "user", "content": task}]
    ex = exchange(body(messages))
    ex.policy = ex.policy.model_copy(
        update={
            "private_context": ex.policy.private_context.model_copy(
                update={"sensitive_task": choice}
            )
        }
    )
    return ex


async def test_a_sensitive_task_stays_local_by_default(local_model: LocalModel) -> None:
    sent: list[dict] = []
    gate, ledger = gate_for(cloud(sent))
    ex = exchange(body([{"role": "user", "content": SENSITIVE}]))
    assert ex.policy.private_context.sensitive_task == "local"
    reply = await runners(local_model)["sketch"].run(ex, gate)
    assert json.loads(await read(reply))["choices"][0]["message"]["content"]
    assert sent == [] and ex.outbound is None  # nothing left
    record = ledger.egress[0]
    assert (record.kind, record.body, record.mode) == ("local", b"", "local")
    assert record.note["sensitive_task"] == "local"
    assert record.note["sensitive_categories"] == ["health"]
    assert ex.response_headers["x-cogate-sensitive-task"] == "local; categories=health"


async def test_a_sensitive_task_is_generalised_when_the_policy_says_so(
    local_model: LocalModel,
) -> None:
    sent: list[dict] = []
    gate, ledger = gate_for(cloud(sent))
    reply = await runners(local_model)["sketch"].run(sensitive_exchange("generalise"), gate)
    assert reply.status == 200
    task = sent[0]["messages"][1]["content"]
    for term in ("bipolar", "lithium", "relapse"):
        assert term not in task.lower()
    assert "health matter" in task and "two weeks off" in task
    assert ledger.egress[0].note["sensitive_task"] == "generalised"
    assert json.loads(ledger.egress[0].body) == sent[0]


async def test_a_sensitive_task_leaves_as_is_when_allowed(local_model: LocalModel) -> None:
    sent: list[dict] = []
    gate, ledger = gate_for(cloud(sent))
    await runners(local_model)["sketch"].run(sensitive_exchange("allow"), gate)
    assert "lithium" in sent[0]["messages"][1]["content"]
    assert ledger.egress[0].note["sensitive_task"] == "allowed"


async def test_an_ordinary_task_leaves_without_its_profile_terms(local_model: LocalModel) -> None:
    """The employer (an ORGANIZATION, `keep` in the default policy) repeated by the task."""
    sent: list[dict] = []
    gate, ledger = gate_for(cloud(sent))
    privacy = WordPrivacy({})  # redaction removes nothing (organisations are `keep`)
    task = "Write an email to my manager at Northwind Traders asking for Friday off."
    ex = sensitive_exchange("local", task)
    await runners(local_model, privacy)["sketch"].run(ex, gate)
    assert "Northwind" not in json.dumps(sent) and "Whitfield" not in json.dumps(sent)
    assert "sensitive_task" not in ledger.egress[0].note
    assert "x-cogate-sensitive-task" not in ex.response_headers
