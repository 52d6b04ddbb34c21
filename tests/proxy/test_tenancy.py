"""A shared gateway that one tenant cannot spoil (issue 27), each observation reproduced:
a vault-eviction flood, another tenant's stored ids, a revoked name added again, compaction.

Real parts but the network: the privacy engine, the SQLite ledger, the token store and the
in-memory vaults are the gateway's own; the upstream is scripted (httpx.MockTransport) so it
can record what reached it and answer with the placeholders it was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cogate.audit.backends import open_tokens
from cogate.core.settings import Settings
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from fastapi.testclient import TestClient

FIRST = "My colleague is Eleanor Vance, SSN 536-22-8841."
SECOND = "My colleague is Bob Smith, SSN 078-05-1120."
PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")


class Upstream:
    """Chat and Responses, answering with the placeholders it was sent; stores responses."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict]] = []
        self.stored: dict[str, dict] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        path = request.url.path
        self.requests.append((request.method, path, body))
        said = " ".join(PLACEHOLDER.findall(json.dumps(body)))
        if path.endswith("/chat/completions"):
            message = {"role": "assistant", "content": f"You said {said}"}
            return httpx.Response(200, json={"choices": [{"index": 0, "message": message}]})
        if path.endswith("/responses/compact"):
            output = [{"type": "compaction", "encrypted_content": f"enc-{len(self.requests)}"}]
            return httpx.Response(200, json={"object": "response.compaction", "output": output})
        if path.endswith("/conversations"):
            return httpx.Response(200, json={"id": "conv_a1", "object": "conversation"})
        if request.method == "POST" and path.endswith("/responses"):
            rid = f"resp_{len(self.requests)}"
            text = {"type": "output_text", "text": f"You said {said}"}
            answer = {"id": rid, "object": "response", "status": "completed", "output": [
                {"type": "message", "role": "assistant", "content": [text]}
            ]}  # fmt: skip
            self.stored[rid] = answer
            return httpx.Response(200, json=answer)
        rid = path.rsplit("/", 1)[-1]
        if request.method == "GET" and rid in self.stored:
            return httpx.Response(200, json=self.stored[rid])
        return httpx.Response(200, json={"object": "list", "data": [], "path": path})

    def sent(self) -> str:
        return json.dumps(self.requests)


@contextmanager
def gateway(data: Path, upstream: Upstream, **settings: object) -> Iterator[TestClient]:
    transport = httpx.MockTransport(upstream)
    full = Settings(
        upstream="http://up.test/v1",
        data_dir=data,
        ner_isolation="inline",
        local_enabled=False,
        **settings,
    )

    def assemble(s: Settings):
        return assemble_pipeline(s, transport=transport)

    app = create_app(full, assemble)
    with TestClient(
        app, base_url="http://127.0.0.1", headers={"content-type": "application/json"}
    ) as client:
        yield client


def add(data: Path, name: str) -> str:
    store = open_tokens(data)
    try:
        return store.add(name, ())
    finally:
        store.close()


def chat(text: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


def said(reply: httpx.Response) -> str:
    return reply.json()["choices"][0]["message"]["content"]


# -- quotas: one tenant's flood evicts nothing of another's ---------------------------------


def test_a_flood_of_vaults_gets_429_and_evicts_nothing_of_another_tenant(tmp_path):
    upstream = Upstream()
    alice, bob = add(tmp_path, "alice"), add(tmp_path, "bob")
    quota = 25
    with gateway(tmp_path, upstream, vaults_per_identity=quota, max_vaults=10_000) as client:
        a = {"x-cogate-token": alice, "x-cogate-conversation": "alice-ticket"}
        first = client.post("/v1/chat/completions", json=chat(FIRST), headers=a)
        assert said(first) == "You said Eleanor Vance 536-22-8841"
        statuses, codes = [], set()
        for i in range(quota * 4):  # bob floods: a conversation of its own per request
            b = {"x-cogate-token": bob, "x-cogate-conversation": f"flood-{i}"}
            reply = client.post(
                "/v1/chat/completions", json=chat(f"Mail b{i}@example.com"), headers=b
            )
            statuses.append(reply.status_code)
            if reply.status_code != 200:
                codes.add(reply.json()["error"]["code"])
        forwarded = len(upstream.requests)
        quiet = {"x-cogate-token": bob, "x-cogate-conversation": "nothing-private"}
        plain = client.post("/v1/chat/completions", json=chat("What is 2 + 2?"), headers=quiet)
        second = client.post("/v1/chat/completions", json=chat(SECOND), headers=a)
    assert statuses[:quota] == [200] * quota and set(statuses[quota:]) == {429}
    assert codes == {"vault_quota_exceeded"}
    assert forwarded == 1 + quota  # the refused requests never left
    assert plain.status_code == 200  # a request with no findings needs no vault
    # alice's conversation kept its vault: new values get new numbers, old ones restore
    last = upstream.requests[-1][2]["messages"][-1]["content"]
    assert "[PERSON_2]" in last and "[SSN_2]" in last, last
    assert said(second) == "You said Bob Smith 078-05-1120"


# -- ownership: stored ids of another tenant are not forwarded ------------------------------


def test_another_tenants_stored_ids_get_404_without_reaching_the_upstream(tmp_path):
    upstream = Upstream()
    alice, bob = add(tmp_path, "alice"), add(tmp_path, "bob")
    with gateway(tmp_path, upstream) as client:
        a, b = {"x-cogate-token": alice}, {"x-cogate-token": bob}
        rid = client.post("/v1/responses", json={"model": "m", "input": FIRST}, headers=a)
        rid = rid.json()["id"]
        conv = client.post("/v1/conversations", json={"items": []}, headers=a).json()["id"]
        before = len(upstream.requests)
        refused = [
            client.get(f"/v1/responses/{rid}", headers=b),
            client.get(f"/v1/responses/{rid}/input_items", headers=b),
            client.delete(f"/v1/responses/{rid}", headers=b),
            client.post(f"/v1/responses/{rid}/cancel", headers=b),
            client.get(f"/v1/conversations/{conv}/items", headers=b),
            client.post(f"/v1/conversations/{conv}/items", json={"items": []}, headers=b),
            client.post(
                "/v1/responses",
                json={"model": "m", "input": "go on", "previous_response_id": rid},
                headers=b,
            ),
            client.get("/v1/responses/resp_never_made", headers=a),
        ]
        assert len(upstream.requests) == before  # none of them left
        own = client.get(f"/v1/responses/{rid}", headers=a)
        deleted = client.delete(f"/v1/responses/{rid}", headers=a)
    assert [r.status_code for r in refused] == [404] * len(refused)
    assert all(r.json()["error"]["code"] == "not_found" for r in refused)
    assert own.status_code == 200 and "Eleanor Vance" in own.text
    assert deleted.status_code == 200


# -- identity by issuance ------------------------------------------------------------------


def test_a_revoked_name_added_again_is_a_new_identity(tmp_path):
    upstream = Upstream()
    token = add(tmp_path, "alice")
    conversation = {"x-cogate-conversation": "ticket-9"}
    with gateway(tmp_path, upstream) as client:
        first = client.post(
            "/v1/chat/completions",
            json=chat(FIRST),
            headers={"x-cogate-token": token, **conversation},
        )
        store = open_tokens(tmp_path)
        assert store.revoke("alice")
        store.close()
        again = add(tmp_path, "alice")
        old = client.post(
            "/v1/chat/completions",
            json=chat("hi"),
            headers={"x-cogate-token": token, **conversation},
        )
        asked = "Repeat after me: [SSN_1] and [PERSON_1]"
        new = client.post(
            "/v1/chat/completions",
            json=chat(asked),
            headers={"x-cogate-token": again, **conversation},
        )
    assert "536-22-8841" in said(first)
    assert old.status_code == 401
    assert new.status_code == 200
    assert "536-22-8841" not in new.text and "Eleanor" not in new.text


# -- compaction keeps its numbering --------------------------------------------------------


def test_a_compaction_item_continues_its_vault(tmp_path):
    upstream = Upstream()
    token = add(tmp_path, "codex")
    h = {"x-cogate-token": token}
    history = [{"role": "user", "content": FIRST}]
    with gateway(tmp_path, upstream) as client:
        client.post(
            "/v1/responses", json={"model": "m", "input": history, "store": False}, headers=h
        )
        compact = client.post(
            "/v1/responses/compact", json={"model": "m", "input": history}, headers=h
        )
        item = compact.json()["output"][0]
        assert item["type"] == "compaction"
        turn = [item, {"role": "user", "content": SECOND + " Who are my colleagues?"}]
        reply = client.post(
            "/v1/responses", json={"model": "m", "input": turn, "store": False}, headers=h
        )
    sent = json.dumps(upstream.requests[-1][2])
    assert "[PERSON_2]" in sent and "[PERSON_1]" not in sent  # a new person, a new number
    assert "Bob Smith" in reply.text and "Eleanor" not in reply.text


# -- exposure --------------------------------------------------------------------------------


def test_health_without_a_token_says_only_ok_on_a_shared_gateway(tmp_path):
    with gateway(tmp_path / "personal", Upstream()) as client:
        personal = client.get("/cogate/health").json()
    token = add(tmp_path, "ops")
    with gateway(tmp_path, Upstream()) as client:
        anonymous = client.get("/cogate/health")
        wrong = client.get("/cogate/health", headers={"x-cogate-token": "cgt_wrong"})
        operator = client.get("/cogate/health", headers={"x-cogate-token": token}).json()
    assert "local_model" in personal and "detection" in personal
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    assert wrong.json() == {"status": "ok"}
    assert operator["status"] == "ok" and "detection" in operator


@pytest.mark.parametrize(
    "path",
    [
        "/v1/responses/536-22-8841",
        "/v1/responses/536228841/input_items",
        "/v1/conversations/536-22-8841/items",
        "/v1/responses/resp-536-22-8841",
    ],
)
def test_path_ids_are_held_to_the_apis_id_shapes(tmp_path, path):
    upstream = Upstream()
    with gateway(tmp_path, upstream) as client:
        reply = client.get(path)
    assert reply.status_code == 400 and reply.json()["error"]["param"] in (
        "response_id",
        "conversation_id",
    )
    assert "536" not in reply.text and upstream.requests == []


def test_a_provider_prefix_does_not_step_around_a_model_route(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("routes:\n  - {match: {model: 'gpt-4*'}, mode: block}\n")
    upstream = Upstream()
    with gateway(tmp_path / "data", upstream, policy=policy) as client:
        replies = {
            model: client.post(
                "/v1/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
            ).status_code
            for model in ("gpt-4o", "openai/gpt-4o", "azure/OpenAI/GPT-4o-mini", "gpt-3.5")
        }
    assert replies == {
        "gpt-4o": 403,
        "openai/gpt-4o": 403,
        "azure/OpenAI/GPT-4o-mini": 403,
        "gpt-3.5": 200,
    }


# -- the ledger says who, under which app and route ------------------------------------------


def test_the_ledger_records_identity_bound_app_label_and_route(tmp_path):
    from click.testing import CliRunner
    from cogate.proxy.cli import main

    policy = tmp_path / "policy.yaml"
    policy.write_text("routes:\n  - {name: notes-route, match: {app: Notes}, mode: redact}\n")
    store = open_tokens(tmp_path / "data")
    token = store.add("notes-bot", ("notes",))  # a person's name would be shown as a tag
    store.close()
    with gateway(tmp_path / "data", Upstream(), policy=policy) as client:
        reply = client.post(
            "/v1/chat/completions",
            json=chat(FIRST),
            headers={"x-cogate-token": token, "x-cogate-app": "My-Label"},
        )
    assert reply.status_code == 200

    def listed(*args: str) -> list[dict]:
        out = CliRunner().invoke(
            main, ["audit", "list", "--json", "--data-dir", str(tmp_path / "data"), *args]
        )
        assert out.exit_code == 0, out.output
        return [json.loads(line) for line in out.output.splitlines()]

    (entry,) = listed()
    assert entry["app"] == "My-Label" and entry["identity"].startswith("notes-bot:")
    shown = CliRunner().invoke(
        main, ["audit", "show", entry["id"], "--json", "--data-dir", str(tmp_path / "data")]
    )
    note = json.loads(shown.output)["entry"]["note"]
    assert note["caller"] == {"route": "notes-route", "route_reason": "match", "bound_app": "notes"}
    # `--app` matches as routes do: any case, * and ? as wildcards, nothing else
    assert len(listed("--app", "my-label")) == 1 and len(listed("--app", "MY-*")) == 1
    assert listed("--app", "my_label") == [] and listed("--app", "notes") == []


def test_stored_responses_over_an_identitys_quota_get_429_before_leaving(tmp_path):
    upstream = Upstream()
    alice, bob = add(tmp_path, "alice"), add(tmp_path, "bob")
    create = {"model": "m", "input": "hello"}
    with gateway(tmp_path, upstream, stored_ids_per_identity=2) as client:
        a, b = {"x-cogate-token": alice}, {"x-cogate-token": bob}
        made = [client.post("/v1/responses", json=create, headers=a) for _ in range(2)]
        sent = len(upstream.requests)
        over = client.post("/v1/responses", json=create, headers=a)
        assert len(upstream.requests) == sent  # refused before it left
        others = client.post("/v1/responses", json=create, headers=b)
        # alice's remembered ids were not evicted: she still reaches both
        kept = [client.get(f"/v1/responses/{r.json()['id']}", headers=a) for r in made]
    assert [r.status_code for r in made] == [200, 200]
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "stored_id_quota_exceeded"
    assert "stored_ids_per_identity" in over.json()["error"]["message"]
    assert others.status_code == 200
    assert [r.status_code for r in kept] == [200, 200]
