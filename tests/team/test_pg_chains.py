"""Responses chains in PostgreSQL: a `previous_response_id` turn finds its vault after a
restart or on another replica, only for the caller that stored it, and nothing in clear."""

from __future__ import annotations

import subprocess
import time

import pytest
from cogate.audit.pg_store import PostgresStore
from cogate.core.errors import QuotaExceeded
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.policies.privacy import Privacy
from cogate.policies.vault.backends import open_vault_backends
from cogate.policies.vault.chains import StoredIds
from cogate.policies.vault.pg_chains import PostgresStoredIds
from cogate.policies.vault.postgres import PostgresVaultStore
from cogate.policies.vault.quotas import Quotas
from cogate.proxy.surfaces.openai_responses import SURFACE

from ..pgserver import pg_bin

RESPONSE_ID = "resp_0c7f3a9e51d24b68"
SECRET = "isabel.q@example.org"


@pytest.fixture
def chain_db(database_url):
    PostgresStore(database_url).close()  # the gateway's migrations create the tables
    return database_url


def exchange(body: dict, *, app: str = "a", identity: str | None = None) -> Exchange:
    ex = Exchange(route="responses", body=body, surface=SURFACE, op="responses.create", app=app)
    ex.identity = identity
    return ex


def test_a_restarted_gateway_continues_a_chain_for_its_caller_only(chain_db, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=chain_db)
    first = Privacy(settings)
    assert isinstance(first.stored, PostgresStoredIds)
    turn = exchange({"input": f"write to {SECRET}"}, identity="alice")
    assert first.vault(turn).pseudonym("EMAIL_ADDRESS", SECRET) == "[EMAIL_1]"
    assert turn.on_stored is not None
    turn.on_stored(SURFACE.stored_ids(turn.op, {"id": RESPONSE_ID, "object": "response"}))
    first.vaults.close()  # type: ignore[attr-defined]

    restarted = Privacy(settings)  # a new process (or another replica) on the same database
    later = exchange({"previous_response_id": RESPONSE_ID}, identity="alice")
    assert restarted.conversation_key(later) == turn.vault_key
    assert restarted.vault(later).value("EMAIL", 1) == SECRET  # the placeholder restores

    for other in (
        exchange({"previous_response_id": RESPONSE_ID}, identity="mallory"),
        exchange({"previous_response_id": RESPONSE_ID}, identity="alice", app="b"),
    ):
        assert restarted.conversation_key(other) != turn.vault_key
        assert restarted.vault(other).value("EMAIL", 1) is None
    restarted.vaults.close()  # type: ignore[attr-defined]


def test_without_a_database_chains_stay_in_memory(tmp_path):
    assert isinstance(open_vault_backends(None, tmp_path / "keys").stored, StoredIds)


def test_entries_expire_and_are_held_to_each_owners_quota(chain_db, tmp_path):
    # Behaviour changed by issue 27: no global eviction; each owner has its own quota.
    vaults = PostgresVaultStore(chain_db, tmp_path / "keys")
    stale = PostgresStoredIds(vaults, ttl=0.05)
    stale.remember("alice", "alice", "resp_1", "k1")
    assert stale.lookup("alice", "alice", "resp_1") == "k1"
    time.sleep(0.2)
    assert stale.lookup("alice", "alice", "resp_1") is None
    bounded = PostgresStoredIds(vaults, Quotas(stored_ids_per_identity=2), sweep_every=0.0)
    bounded.remember("carol", "carol", "resp_c", "kc")
    for i in range(2):
        bounded.room("bob")
        bounded.remember("bob", "bob", f"resp_{i}", f"k{i}")
    with pytest.raises(QuotaExceeded):
        bounded.room("bob")
    bounded.remember("bob", "bob", "resp_2", "k2")  # under way when it filled: own oldest goes
    assert bounded.lookup("bob", "bob", "resp_0") is None
    assert bounded.lookup("bob", "bob", "resp_2") == "k2"
    assert bounded.lookup("carol", "carol", "resp_c") == "kc"  # never another owner's
    bounded.room("carol")
    vaults.close()


def test_the_database_holds_no_response_id_caller_or_vault_key_in_clear(chain_db, tmp_path):
    vaults = PostgresVaultStore(chain_db, tmp_path / "keys")
    chains = PostgresStoredIds(vaults)
    vault_key = "9f2c4e7a1b3d5f6081a2c3e4f5061728394a5b6c7d8e9f00112233445566778"
    chains.remember("alice-identity", '["alice-identity", "billing-app"]', RESPONSE_ID, vault_key)
    vaults.close()
    dump = subprocess.run(
        [pg_bin("pg_dump"), "--data-only", chain_db], capture_output=True, check=True
    ).stdout
    assert b"stored_ids" in dump
    for needle in [RESPONSE_ID, vault_key, "alice-identity", "billing-app"]:
        assert needle.encode() not in dump
