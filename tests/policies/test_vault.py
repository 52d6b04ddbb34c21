"""The pseudonym vault: stable, collision-free, bounded, expiring, safe under concurrency."""

from __future__ import annotations

import threading
import time

import pytest
from cogate.core.errors import QuotaExceeded
from cogate.policies.vault.memory import Vault, VaultFull, VaultStore
from cogate.policies.vault.quotas import Quotas


def test_same_value_same_placeholder_and_no_sharing() -> None:
    vault = Vault()
    a = vault.pseudonym("PERSON", "Isabel")
    assert vault.pseudonym("PERSON", "Isabel") == a
    assert vault.pseudonym("LOCATION", "Isabel") == a  # a value keeps its first placeholder
    assert vault.pseudonym("PERSON", "Tom") != a
    assert vault.value("PERSON", 1) == "Isabel"
    assert vault.value("PERSON", 2) == "Tom"


def test_placeholders_already_in_the_text_are_skipped() -> None:
    vault = Vault()
    assert vault.pseudonym("PERSON", "Isabel", avoid="see [PERSON_1] and person_2") == "[PERSON_3]"


def test_concurrent_requests_never_share_or_split_a_placeholder() -> None:
    vault = Vault()
    values = [f"person-{i}" for i in range(200)]
    results: list[dict[str, str]] = []
    barrier = threading.Barrier(8)

    def worker(offset: int) -> None:
        barrier.wait()
        seen = {}
        for i in range(len(values)):
            value = values[(i + offset * 25) % len(values)]
            seen[value] = vault.pseudonym("PERSON", value)
        results.append(seen)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(r == results[0] for r in results)  # every thread saw the same mapping
    assert len(set(results[0].values())) == len(values)  # and no two values share one


def test_store_concurrent_get_gives_one_vault_per_key() -> None:
    store = VaultStore()
    got: list[Vault] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        got.append(store.get("conversation"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(v is got[0] for v in got)


def test_store_holds_a_vault_only_once_it_has_a_value() -> None:
    store = VaultStore()
    empty = store.get("no findings", "alice")
    assert len(store) == 0 and store.held("alice") == 0
    assert store.get("no findings", "alice") is empty  # while a request holds it
    empty.pseudonym("PERSON", "Isabel")
    assert len(store) == 1 and store.get("no findings", "alice") is empty
    once = store.get("one request", "alice", ephemeral=True)
    once.pseudonym("PERSON", "Isabel")
    assert len(store) == 1  # a vault for one request only is never held


def test_store_quota_per_owner_and_expiry() -> None:
    # Behaviour changed by issue 27: no global LRU eviction; each owner has its own quota.
    store = VaultStore(Quotas(vaults_per_identity=3), ttl=3600)
    first = store.get("a", "alice")
    first.pseudonym("PERSON", "Isabel")
    for key in "bc":
        store.get(key, "alice").pseudonym("PERSON", "Isabel")
    with pytest.raises(QuotaExceeded) as refused:
        store.get("d", "alice").pseudonym("PERSON", "Isabel")
    assert refused.value.status == 429 and "vaults_per_identity" in refused.value.message
    bob = store.get("d", "bob")
    bob.pseudonym("PERSON", "Bob")  # another owner is not affected
    assert store.get("a", "alice") is first  # and nothing of alice's was evicted
    short = VaultStore(ttl=0.01)
    vault = short.get("x")
    vault.pseudonym("PERSON", "Isabel")
    time.sleep(0.05)
    assert short.get("x") is not vault


def test_store_capacity_refuses_rather_than_evicts() -> None:
    store = VaultStore(Quotas(max_vaults=2))
    for owner in ("a", "b"):
        store.get("k", owner).pseudonym("PERSON", "Isabel")
    with pytest.raises(QuotaExceeded) as refused:
        store.get("k", "c").pseudonym("PERSON", "Isabel")
    assert refused.value.code == "gateway_capacity"
    assert store.get("k", "a").value("PERSON", 1) == "Isabel"


def test_vault_is_bounded() -> None:
    vault = Vault(max_values=2)
    vault.pseudonym("PERSON", "a")
    vault.pseudonym("PERSON", "b")
    with pytest.raises(VaultFull):
        vault.pseudonym("PERSON", "c")
