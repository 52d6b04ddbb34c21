"""The vault-eviction flood on a shared database (issue 27): one tenant flooding a PostgreSQL
gateway with new conversations gets 429 at its own quota, another tenant's vault keeps its
numbering, and the database holds no more than the quota of rows for the flooder.

Real PostgreSQL (tests/pgserver.py), ledger, tokens and vaults on it; the upstream is the
scripted one of tests/proxy/test_tenancy.py.
"""

from __future__ import annotations

import psycopg
from cogate.audit.backends import open_tokens

from ..proxy.test_tenancy import FIRST, SECOND, Upstream, chat, gateway, said


def add(data, url: str, name: str) -> str:
    store = open_tokens(data, url)
    try:
        return store.add(name, ())
    finally:
        store.close()


def test_a_flood_on_postgres_gets_429_and_evicts_nothing_of_another_tenant(database_url, tmp_path):
    upstream = Upstream()
    alice, bob = add(tmp_path, database_url, "alice"), add(tmp_path, database_url, "bob")
    quota = 20
    with gateway(
        tmp_path, upstream, database_url=database_url, vaults_per_identity=quota
    ) as client:
        a = {"x-cogate-token": alice, "x-cogate-conversation": "alice-ticket"}
        assert said(client.post("/v1/chat/completions", json=chat(FIRST), headers=a)) == (
            "You said Eleanor Vance 536-22-8841"
        )
        statuses = []
        for i in range(quota * 3):
            b = {"x-cogate-token": bob, "x-cogate-conversation": f"flood-{i}"}
            text = f"Mail b{i}@example.com"
            statuses.append(client.post("/v1/chat/completions", json=chat(text), headers=b))
        second = client.post("/v1/chat/completions", json=chat(SECOND), headers=a)
    assert [r.status_code for r in statuses] == [200] * quota + [429] * (quota * 2)
    assert statuses[-1].json()["error"]["code"] == "vault_quota_exceeded"
    last = upstream.requests[-1][2]["messages"][-1]["content"]
    assert "[PERSON_2]" in last and "[SSN_2]" in last, last
    assert said(second) == "You said Bob Smith 078-05-1120"
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT owner, count(*) FROM vaults GROUP BY owner").fetchall()
    # one row per vault that got a value: alice's one, bob's quota; none for refused requests
    assert sorted(n for _, n in rows) == [1, quota]
