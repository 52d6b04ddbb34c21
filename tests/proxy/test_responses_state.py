"""Which vault a Responses request uses: response chains, conversations, identities."""

from __future__ import annotations

from cogate.policies.vault import Vault
from cogate.proxy.surfaces.responses_state import (
    ResponseChains,
    continues_unknown,
    vault_key,
)


def key(chains: ResponseChains, body: dict, *, app: str = "a", path_id: str | None = None,
        seed: object = None, exchange: str = "x1") -> str:  # fmt: skip
    return vault_key(
        chains, app, "responses.create", body,
        path_id=path_id, header=None, seed=seed, exchange_id=exchange,
    )  # fmt: skip


def test_a_chain_continues_its_vault() -> None:
    chains = ResponseChains()
    first = key(chains, {"input": "hi"}, exchange="e1")
    chains.remember("a", "resp_1", first)
    assert key(chains, {"previous_response_id": "resp_1"}, exchange="e2") == first
    assert key(chains, {}, path_id="resp_1", exchange="e3") == first  # GET /responses/resp_1


def test_conversation_ids_continue_their_vault() -> None:
    chains = ResponseChains()
    chains.remember("a", "conv_1", "k-conv")
    assert key(chains, {"conversation": "conv_1"}) == "k-conv"
    assert key(chains, {"conversation": {"id": "conv_1"}}) == "k-conv"


def test_another_app_cannot_reach_a_chain() -> None:
    chains = ResponseChains()
    chains.remember("a", "resp_1", "k-a")
    other = key(chains, {"previous_response_id": "resp_1"}, app="b")
    assert other != "k-a"
    assert continues_unknown(
        chains, "b", "responses.create", {"previous_response_id": "resp_1"}, None
    )
    assert not continues_unknown(
        chains, "a", "responses.create", {"previous_response_id": "resp_1"}, None
    )


def test_same_opening_same_vault_without_ids() -> None:
    chains = ResponseChains()
    seed = {"instructions": "x", "first_user": "hi"}
    assert key(chains, {}, seed=seed, exchange="e1") == key(chains, {}, seed=seed, exchange="e2")
    assert key(chains, {}, exchange="e1") != key(chains, {}, exchange="e2")


def test_entries_are_bounded_and_expire() -> None:
    chains = ResponseChains(max_entries=2)
    for i in range(3):
        chains.remember("a", f"resp_{i}", f"k{i}")
    assert chains.lookup("a", "resp_0") is None and chains.lookup("a", "resp_2") == "k2"
    stale = ResponseChains(ttl=0.0)
    stale.remember("a", "resp_1", "k")
    assert stale.lookup("a", "resp_1") is None


def test_a_vault_for_an_unknown_chain_numbers_above_the_old_history() -> None:
    vault = Vault()
    vault.reserve(1000)
    assert vault.pseudonym("EMAIL_ADDRESS", "a@b.example") == "[EMAIL_1001]"
    used = Vault()
    used.pseudonym("EMAIL_ADDRESS", "a@b.example")
    used.reserve(1000)  # a vault already in use keeps its numbering
    assert used.pseudonym("EMAIL_ADDRESS", "c@d.example") == "[EMAIL_2]"
