"""The pseudonym vault: stable, collision-free, bounded, expiring, safe under concurrency."""

from __future__ import annotations

import threading
import time

import pytest
from cogate.policies.vault.memory import Vault, VaultFull, VaultStore


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


def test_store_is_bounded_and_expires() -> None:
    store = VaultStore(max_conversations=3, ttl=3600)
    first = store.get("a")
    for key in "bcd":
        store.get(key)
    assert len(store) == 3
    assert store.get("a") is not first  # the oldest was evicted
    short = VaultStore(ttl=0.01)
    vault = short.get("x")
    vault.pseudonym("PERSON", "Isabel")
    time.sleep(0.05)
    assert short.get("x") is not vault


def test_vault_is_bounded() -> None:
    vault = Vault(max_values=2)
    vault.pseudonym("PERSON", "a")
    vault.pseudonym("PERSON", "b")
    with pytest.raises(VaultFull):
        vault.pseudonym("PERSON", "c")
