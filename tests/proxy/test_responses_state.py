"""Which vault a Responses request uses: response chains, conversations, identities.

The privacy engine follows the ids the surface says a request continues and remembers the
ids the surface finds in an answer; neither side knows the other's API."""

from __future__ import annotations

from pathlib import Path

import pytest
from cogate.core.errors import QuotaExceeded
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.policies.privacy import Privacy
from cogate.policies.vault.chains import StoredIds
from cogate.policies.vault.memory import Vault
from cogate.policies.vault.quotas import Quotas
from cogate.proxy.surfaces.openai_responses import SURFACE


@pytest.fixture(scope="module")
def privacy(tmp_path_factory: pytest.TempPathFactory) -> Privacy:
    data: Path = tmp_path_factory.mktemp("state-data")
    return Privacy(Settings(data_dir=data, upstream="https://api.openai.com/v1"))


def exchange(
    body: dict, *, app: str = "a", op: str = "responses.create", **params: str
) -> Exchange:
    return Exchange(route="responses", body=body, surface=SURFACE, op=op, app=app, params=params)


def key(privacy: Privacy, body: dict, **kw) -> str:
    return privacy.conversation_key(exchange(body, **kw))


def answered(privacy: Privacy, ex: Exchange, answer: dict) -> None:
    """What the forward runner does after an answer: its stored ids continue the vault."""
    privacy.vault(ex)
    assert ex.on_stored is not None
    ex.on_stored(SURFACE.stored_ids(ex.op, answer))


def test_a_chain_continues_its_vault(privacy: Privacy) -> None:
    first = exchange({"input": "hi, chain one"})
    answered(privacy, first, {"id": "resp_c1", "object": "response"})
    assert key(privacy, {"previous_response_id": "resp_c1"}) == first.vault_key
    get = exchange({}, op="responses.retrieve", response_id="resp_c1")  # GET /responses/resp_c1
    assert privacy.conversation_key(get) == first.vault_key


def test_a_streamed_answer_is_remembered_from_its_created_event(privacy: Privacy) -> None:
    first = exchange({"input": "hi, streamed"})
    event = {"type": "response.created", "response": {"id": "resp_s1", "object": "response"}}
    answered(privacy, first, event)
    assert key(privacy, {"previous_response_id": "resp_s1"}) == first.vault_key


def test_conversation_ids_continue_their_vault(privacy: Privacy) -> None:
    created = exchange({"items": [{"role": "user", "content": "hi"}]}, op="conversations.create")
    answered(privacy, created, {"id": "conv_1", "object": "conversation"})
    vault_key = created.vault_key
    assert key(privacy, {"conversation": "conv_1"}) == vault_key
    assert key(privacy, {"conversation": {"id": "conv_1"}}) == vault_key
    items = exchange({"items": []}, op="conversations.items.create", conversation_id="conv_1")
    assert privacy.conversation_key(items) == vault_key


def test_another_app_cannot_reach_a_chain(privacy: Privacy) -> None:
    first = exchange({"input": "hi, app a"}, app="a")
    answered(privacy, first, {"id": "resp_a1", "object": "response"})
    other = exchange({"previous_response_id": "resp_a1"}, app="b")
    assert privacy.conversation_key(other) != first.vault_key
    # The other app's vault for an id it never produced numbers above any old history.
    assert privacy.vault(other).pseudonym("EMAIL_ADDRESS", "x@y.example") == "[EMAIL_1001]"


def test_same_opening_same_vault_without_ids(privacy: Privacy) -> None:
    body = {"instructions": "x", "input": "hi"}
    assert key(privacy, body) == key(privacy, {**body, "model": "other"})
    assert privacy.conversation_key(exchange({})) != privacy.conversation_key(exchange({}))


def test_errors_and_other_objects_are_not_stored_ids() -> None:
    assert SURFACE.stored_ids("responses.create", {"id": "x", "object": "list"}) == []
    assert SURFACE.stored_ids("responses.create", {"type": "response.output_text.delta"}) == []
    assert SURFACE.continues("responses.create", {"input": "hi"}, {}) == []


def test_entries_are_held_to_each_owners_quota_and_expire() -> None:
    # Behaviour changed by issue 27: no global eviction; each owner has its own quota.
    chains = StoredIds(Quotas(stored_ids_per_identity=2))
    chains.remember("b", "b", "resp_b", "kb")
    for i in range(2):
        chains.room("a")
        chains.remember("a", "a", f"resp_{i}", f"k{i}")
    with pytest.raises(QuotaExceeded) as refused:
        chains.room("a")
    assert refused.value.status == 429 and "stored_ids_per_identity" in refused.value.message
    chains.remember("a", "a", "resp_2", "k2")  # an answer already under way: own oldest goes
    assert chains.lookup("a", "a", "resp_0") is None and chains.lookup("a", "a", "resp_2") == "k2"
    assert chains.lookup("b", "b", "resp_b") == "kb"  # never another owner's
    chains.room("b")
    stale = StoredIds(ttl=0.0)
    stale.remember("a", "a", "resp_1", "k")
    assert stale.lookup("a", "a", "resp_1") is None


def test_a_vault_for_an_unknown_chain_numbers_above_the_old_history() -> None:
    vault = Vault()
    vault.reserve(1000)
    assert vault.pseudonym("EMAIL_ADDRESS", "a@b.example") == "[EMAIL_1001]"
    used = Vault()
    used.pseudonym("EMAIL_ADDRESS", "a@b.example")
    used.reserve(1000)  # a vault already in use keeps its numbering
    assert used.pseudonym("EMAIL_ADDRESS", "c@d.example") == "[EMAIL_2]"


def test_surfaces_without_stored_state_get_the_defaults() -> None:
    from cogate.core import surface
    from cogate.proxy.surfaces import chat

    body = {"messages": [{"role": "user", "content": "hi"}], "previous_response_id": "resp_1"}
    assert surface.continues(chat.SURFACE, "chat.completions.create", body, {}) == []
    assert surface.stored_ids(chat.SURFACE, "chat.completions.create", {"id": "x"}) == []
    assert not surface.holds_credentials(chat.SURFACE, "chat.completions.create", body)
    error = {"error": {"message": "m"}}
    assert surface.stream_error(chat.SURFACE, "chat.completions.create", error).data == error
