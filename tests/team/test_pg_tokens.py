"""Identities in PostgreSQL: tokens added or revoked through any replica's `cogate tokens`
hold on every `cogate serve` replica on the database, and the database keeps only hashes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psycopg
import pytest
from click.testing import CliRunner
from cogate.audit.backends import open_tokens
from cogate.audit.pg_tokens import PostgresTokens
from cogate.audit.tokens import SQLiteTokens, TokenError, token_hash
from cogate.core.errors import GatewayError
from cogate.core.settings import Settings
from cogate.proxy.cli import main
from cogate.proxy.identity import Identities
from starlette.datastructures import Headers

from ..pgserver import pg_bin
from ..servers import cogate_server

BIN = Path(sys.executable).parent


def tokens(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["tokens", *args], env=env, catch_exceptions=False)


def dump(url: str) -> bytes:
    return subprocess.run(
        [pg_bin("pg_dump"), "--data-only", url], capture_output=True, check=True
    ).stdout


def test_open_tokens_chooses_the_backend(database_url, tmp_path):
    shared = open_tokens(tmp_path / "data", database_url)
    local = open_tokens(tmp_path / "data")
    try:
        assert isinstance(shared, PostgresTokens) and isinstance(local, SQLiteTokens)
        token = shared.add("ci-bot", ("builds",))
        assert local.lookup_by_hash(token_hash(token)) is None and not local.any_issued()
    finally:
        shared.close()
        local.close()


def test_store_add_lookup_revoke_reissue(database_url):
    store = PostgresTokens(database_url)
    try:
        assert not store.any_issued()
        token = store.add("ci-bot", ("deploys", "builds", "builds"))
        found = store.lookup_by_hash(token_hash(token))
        assert found is not None and found.name == "ci-bot" and found.apps == ("builds", "deploys")
        with pytest.raises(TokenError, match="revoke it first"):
            store.add("ci-bot", ())
        with pytest.raises(TokenError, match="lower-case"):
            store.add("Eleanor Vance", ())
        assert store.revoke("ci-bot") and not store.revoke("ci-bot")
        assert store.lookup_by_hash(token_hash(token)) is None
        assert store.any_issued()  # a revoked token keeps the gateway shared
        [listed] = store.list()
        assert listed.revoked is not None
        again = store.add("ci-bot", ())  # a revoked name may be issued anew
        assert store.lookup_by_hash(token_hash(again)).apps == ()  # type: ignore[union-attr]
        assert store.lookup_by_hash(token_hash(token)) is None
    finally:
        store.close()


def test_two_operators_adding_one_name_at_once_get_one_token(database_url):
    stores = [PostgresTokens(database_url) for _ in range(4)]
    barrier = threading.Barrier(4)
    won: list[str] = []
    refused: list[str] = []

    def add(store: PostgresTokens) -> None:
        barrier.wait()
        try:
            won.append(store.add("shared-name", ()))
        except TokenError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=add, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(refused) == 3
    assert stores[0].lookup_by_hash(token_hash(won[0])) is not None
    for store in stores:
        store.close()


def test_cli_takes_the_database_from_the_flag_or_the_environment(database_url, tmp_path):
    added = tokens("add", "alice", "--app", "notes", "--yes", "--database-url", database_url)
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    listed = tokens("list", "--json", env={"COGATE_DATABASE_URL": database_url})
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["name"], r["apps"], r["revoked"]) for r in rows] == [("alice", ["notes"], None)]
    # The data dir's own SQLite store never saw it.
    assert "no tokens" in tokens("list", "--data-dir", str(tmp_path / "d")).output
    revoked = tokens("revoke", "alice", env={"COGATE_DATABASE_URL": database_url})
    assert revoked.exit_code == 0 and "revoked alice" in revoked.output
    again = tokens("revoke", "alice", "--database-url", database_url)
    assert again.exit_code == 1 and "no active token" in again.output
    dumped = dump(database_url)
    assert token_hash(token).encode() in dumped and token.encode() not in dumped


def test_cli_errors_name_the_fix_without_the_password(postgres, tmp_path):
    bad = tokens("list", "--database-url", "mysql://root@db/cogate")
    assert bad.exit_code == 2 and "PostgreSQL URL" in bad.output
    host_port = postgres.split("@", 1)[1].split("/", 1)[0]
    missing = f"postgresql://postgres:hunter2-pw@{host_port}/no_such_database"
    down = tokens("add", "alice", "--database-url", missing)
    assert down.exit_code == 2 and "cannot connect to the token database" in down.output
    assert "hunter2-pw" not in down.output and "***" in down.output


def test_a_lost_database_refuses_instead_of_opening_the_gateway(postgres, database_url, tmp_path):
    store = PostgresTokens(database_url)
    token = store.add("alice", ())
    identities = Identities(Settings(data_dir=tmp_path, database_url=database_url), store)
    assert identities.authenticate(Headers({"x-cogate-token": token})).identity.startswith("alice:")
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    try:
        for headers in ({"x-cogate-token": token}, {"authorization": "Bearer sk-x"}, {}):
            with pytest.raises(GatewayError) as refused:
                identities.authenticate(Headers(headers))
            assert refused.value.status == 503 and refused.value.code == "token_store_unavailable"
            assert name not in refused.value.message
    finally:
        store.close()


def ask(base: str, token: str | None) -> httpx.Response:
    headers = {"x-cogate-token": token} if token else {}
    return httpx.post(
        f"{base}/chat/completions",
        json={"model": "smol", "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]},
        headers=headers,
        timeout=300,
        trust_env=False,
    )


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cogate"), *args], capture_output=True, text=True)


@pytest.mark.e2e
def test_a_token_added_on_one_replica_holds_on_both_until_revoked(
    tmp_path, llama_upstream, database_url
):
    data = tmp_path / "shared-data"
    db = ["--database-url", database_url]
    first = cli("tokens", "add", "ops", "--yes", *db, "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    with (
        cogate_server(tmp_path, llama_upstream, args=db, data_dir=data) as a,
        cogate_server(tmp_path, llama_upstream, args=db, data_dir=data) as b,
    ):
        # Added while both run, through a CLI that names only the database.
        added = cli("tokens", "add", "alice", *db)
        assert added.returncode == 0, added.stderr
        token = added.stdout.strip().splitlines()[-1]
        for replica in (a, b):
            assert ask(replica, None).status_code == 401
            assert ask(replica, "cgt_not-a-real-token").status_code == 401
            ok = ask(replica, token)
            assert ok.status_code == 200, ok.text
        assert cli("tokens", "revoke", "alice", *db).returncode == 0
        for replica in (a, b):
            refused = ask(replica, token)
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "cogate_token_required"
    # The data dir's SQLite holds no identity: both replicas read the database's.
    assert "no tokens" in cli("tokens", "list", "--data-dir", str(data)).stdout
    dumped = dump(database_url)
    assert token_hash(token).encode() in dumped and token.encode() not in dumped


def test_serve_counts_tokens_on_the_database_before_binding_off_loopback(database_url, tmp_path):
    from cogate.proxy.cli import _tokens_issued

    settings = Settings(data_dir=tmp_path, database_url=database_url, host="0.0.0.0")
    assert not _tokens_issued(settings)
    refused = CliRunner().invoke(
        main, ["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        env={"COGATE_DATABASE_URL": database_url},
    )  # fmt: skip
    assert refused.exit_code == 2 and "refusing to bind 0.0.0.0" in refused.output
    tokens("add", "ops", "--yes", "--database-url", database_url)
    assert _tokens_issued(settings)
    assert not _tokens_issued(Settings(data_dir=tmp_path, host="0.0.0.0"))  # SQLite: none
