"""Pseudonym vaults in PostgreSQL: shared by replicas, encrypted at rest, expiring."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
from cogate.audit.pg_store import PostgresStore
from cogate.policies.vault.postgres import PostgresVaultStore

from ..pgserver import pg_bin

SECRETS = ["Isabel Quintavelle", "isabel.q@example.org", "+44 7700 900461"]


@pytest.fixture
def vault_db(database_url):
    PostgresStore(database_url).close()  # the gateway's migrations create the tables
    return database_url


def replicas(url, keys_dir, n=2, **options) -> list[PostgresVaultStore]:
    return [PostgresVaultStore(url, keys_dir, **options) for _ in range(n)]


def test_a_second_replica_restores_what_the_first_assigned(vault_db, tmp_path):
    a, b = replicas(vault_db, tmp_path / "keys")
    first = a.get("conversation-1")
    names = [first.pseudonym("PERSON", SECRETS[0]), first.pseudonym("EMAIL_ADDRESS", SECRETS[1])]
    assert names == ["[PERSON_1]", "[EMAIL_1]"]
    second = b.get("conversation-1")  # turn 2 lands on the other replica
    assert second.pseudonym("PERSON", SECRETS[0]) == "[PERSON_1]"
    assert second.value("EMAIL", 1) == SECRETS[1]
    assert second.pseudonym("PERSON", "Someone Else") == "[PERSON_2]"
    assert first.value("PERSON", 2) == "Someone Else"  # and back again
    assert b.get("conversation-2").value("PERSON", 1) is None  # conversations stay apart
    for store in (a, b):
        store.close()


def test_replicas_assigning_at_once_never_share_a_placeholder(vault_db, tmp_path):
    stores = replicas(vault_db, tmp_path / "keys", n=4)
    barrier = threading.Barrier(8)
    got: dict[str, set[str]] = {}

    def worker(i: int) -> None:
        vault = stores[i % 4].get("busy")
        barrier.wait()
        for j in range(10):
            value = f"person {j}" if i % 2 else f"person {9 - j}"
            got.setdefault(value, set()).add(vault.pseudonym("PERSON", value))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(names) == 1 for names in got.values())  # one placeholder per value
    assert len({next(iter(n)) for n in got.values()}) == 10  # never two values on one
    check = PostgresVaultStore(vault_db, tmp_path / "keys").get("busy")
    for value, names in got.items():
        assert check.pseudonym("PERSON", value) in names
    for store in stores:
        store.close()


def test_an_unused_conversation_expires(vault_db, tmp_path):
    (store,) = replicas(vault_db, tmp_path / "keys", n=1, ttl=0.05)
    store.get("c").pseudonym("PERSON", SECRETS[0])
    time.sleep(0.2)
    assert store.get("c").value("PERSON", 1) is None
    store.close()


def test_the_database_holds_no_value_in_clear(vault_db, tmp_path):
    (store,) = replicas(vault_db, tmp_path / "keys", n=1)
    vault = store.get("x-cogate-conversation: secret-project")
    for value in SECRETS:
        vault.pseudonym("PERSON", value)
    store.close()
    dump = subprocess.run(
        [pg_bin("pg_dump"), "--data-only", vault_db], capture_output=True, check=True
    ).stdout
    assert b"vault_entries" in dump
    for needle in [*SECRETS, "secret-project"]:
        assert needle.encode() not in dump
