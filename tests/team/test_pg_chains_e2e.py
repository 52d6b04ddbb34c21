"""A Responses chain across a gateway restart: turn 1 through one `cogate serve`, turn 2
(`previous_response_id`) through another started after the first stopped, on one PostgreSQL
database, with the official openai SDK and the Responses stand-in on real llama.cpp."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from ..servers import cogate_server
from ..standins.responses_upstream import Upstream, responses_upstream

pytestmark = pytest.mark.e2e

EMAIL = "chain-4410-secret@example.org"
PHONE = "+1 415 555 0178"


@pytest.fixture
def standin(llama_upstream: str) -> Iterator[Upstream]:
    with responses_upstream(llama_upstream) as upstream:
        yield upstream


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key="sk-chain-test-not-real", max_retries=0)


def test_a_chain_continues_after_a_restart(tmp_path, standin, database_url):
    data = tmp_path / "shared-data"
    args = ["--database-url", database_url]
    with cogate_server(tmp_path, standin.url, args=args, data_dir=data) as first_gateway:
        first = client(first_gateway).responses.create(
            model="smollm2", input=f"My email is {EMAIL}. Say ok.", max_output_tokens=8
        )
    assert "[EMAIL_1]" in standin.received[-1]["body"]["input"]

    # The first process is gone: only the database knows which vault resp_… belongs to.
    with cogate_server(tmp_path, standin.url, args=args, data_dir=data) as second_gateway:
        later = client(second_gateway)
        second = later.responses.create(
            model="smollm2",
            previous_response_id=first.id,
            input=f"Again: my email is {EMAIL} and my phone is {PHONE}.",
            max_output_tokens=8,
        )
        items = later.responses.input_items.list(first.id)
    sent = standin.received[-2]["body"]["input"]  # the create, before the items listing
    # The same vault: the address keeps its placeholder (a new one would be [EMAIL_1001]).
    assert "[EMAIL_1]" in sent and "[PHONE_1]" in sent, sent
    assert second.previous_response_id == first.id
    # What the upstream stored for turn 1 (placeholders) comes back restored.
    assert EMAIL in json.dumps([i.model_dump() for i in items.data])
    assert EMAIL not in standin.seen() and PHONE not in standin.seen()
