"""The sketch, logits and local modes answer Responses requests: the official openai SDK
through `cogate serve` (the local SmolLM2 on the device) to a stand-in upstream on a real
llama.cpp model. The private profile never reaches the stand-in, the answer comes back as a
Response object or the SDK's own event stream, and the ledger holds exactly what left."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.servers import cogate_server
from tests.standins.responses_upstream import Upstream, responses_upstream

pytestmark = pytest.mark.e2e

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
PROFILE = (
    "## User Profile\nName: Isabel Martinez\nLocation: Miami, Florida\n"
    'Privacy_info: Hosts a monthly dinner she calls the "synergy supper"; is writing a book '
    'called "Selling Blue Water"\n'
)
TASK = "Write a two-sentence invitation to a dinner party for clients."
PRIVATE = ("Isabel", "Martinez", "Miami", "synergy supper", "Selling Blue Water")


@pytest.fixture(scope="module")
def standin(llama_upstream: str) -> Iterator[Upstream]:
    with responses_upstream(llama_upstream) as upstream:
        yield upstream


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("modes-gateway") / "data"


@pytest.fixture(scope="module")
def gateway(standin: Upstream, data_dir: Path) -> Iterator[str]:
    env = {"COGATE_LOCAL_THREADS": "1"}
    with cogate_server(data_dir.parent, standin.url, data_dir=data_dir, env=env) as url:
        yield url  # the shipped default policy; each test asks for a stricter mode


def client_for(gateway: str, mode: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway,
        api_key="sk-test-not-a-real-key",
        max_retries=0,
        timeout=600,
        default_headers={"x-cogate-mode": mode},
    )


def ledger(data_dir: Path, *args: str) -> list[dict[str, Any]]:
    """Entries as `cogate audit list --json` prints them (newest first)."""
    cmd = [str(BIN / "cogate"), "audit", "list", "--data-dir", str(data_dir), "--json", *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def left(data_dir: Path, entry_id: str) -> bytes:
    """The body an entry says left the device, byte for byte (`cogate audit show --raw`)."""
    cmd = [str(BIN / "cogate"), "audit", "show", entry_id, "--data-dir", str(data_dir), "--raw"]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def new_requests(standin: Upstream, before: int) -> list[dict[str, Any]]:
    return standin.received[before:]


def assert_private_stayed(requests: list[dict[str, Any]]) -> None:
    for request in requests:
        text = json.dumps(request["body"], ensure_ascii=False).lower()
        for value in PRIVATE:
            assert value.lower() not in text, f"{value!r} reached the upstream"


def exchange_of(data_dir: Path, entry_id: str) -> str:
    cmd = [str(BIN / "cogate"), "audit", "show", entry_id, "--data-dir", str(data_dir), "--json"]
    shown = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return str(shown["entry"]["exchange"])


def entries_of(data_dir: Path, audit_id: str, mode: str) -> list[dict[str, Any]]:
    """The ledger entries of the exchange whose first entry is `audit_id`."""
    exchange = exchange_of(data_dir, audit_id)
    return [
        e for e in ledger(data_dir, "--mode", mode) if exchange_of(data_dir, e["id"]) == exchange
    ]


def test_sketch_keeps_the_profile_on_the_device(
    gateway: str, standin: Upstream, data_dir: Path
) -> None:
    before = len(standin.received)
    raw = client_for(gateway, "sketch").responses.with_raw_response.create(
        model="smollm2", instructions=PROFILE, input=TASK, max_output_tokens=32, temperature=0
    )
    assert raw.headers["x-cogate-mode"] == "sketch"
    response = raw.parse()
    assert response.object == "response" and response.output_text.strip()
    assert response.status in ("completed", "incomplete")
    sent = new_requests(standin, before)
    assert [r["path"] for r in sent] == ["/v1/chat/completions"]  # the outline, nothing else
    assert_private_stayed(sent)
    # The ledger holds the outline request, byte for byte what the stand-in received.
    (entry,) = entries_of(data_dir, raw.headers["x-cogate-audit-id"], "sketch")
    assert entry["path"] == "/v1/chat/completions"
    assert json.loads(left(data_dir, entry["id"])) == sent[0]["body"]


def test_sketch_streams_the_sdk_event_sequence(gateway: str, standin: Upstream) -> None:
    before = len(standin.received)
    events = list(
        client_for(gateway, "sketch").responses.create(
            model="smollm2",
            instructions=PROFILE,
            input=TASK,
            max_output_tokens=24,
            temperature=0,
            stream=True,
        )  # fmt: skip
    )
    assert events[0].type == "response.created"
    assert events[-1].type in ("response.completed", "response.incomplete")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    (done,) = [e for e in events if e.type == "response.output_text.done"]
    assert deltas.strip() and deltas == done.text == events[-1].response.output_text
    assert_private_stayed(new_requests(standin, before))


def test_logits_fuses_without_sending_the_profile(
    gateway: str, standin: Upstream, data_dir: Path
) -> None:
    before = len(standin.received)
    client = client_for(gateway, "logits")
    raw = client.responses.with_raw_response.create(
        model="smollm2", instructions=PROFILE, input=TASK, max_output_tokens=24, temperature=0,
        stream=True,
    )  # fmt: skip
    events = list(raw.parse())
    # A cut-off answer ends with response.incomplete, as OpenAI's does.
    assert events[-1].type in ("response.completed", "response.incomplete"), events[-1]
    final = events[-1].response
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas.strip() and deltas == final.output_text and final.usage.output_tokens > 0
    audit_id = raw.headers["x-cogate-audit-id"]
    sent = new_requests(standin, before)
    # The cloud was consulted (drafts through Completions), never with the profile.
    assert sent and all(r["path"] == "/v1/completions" for r in sent)
    assert_private_stayed(sent)
    entries = entries_of(data_dir, audit_id, "logits")
    cloud = [e for e in entries if e["kind"] != "local"]
    assert len(cloud) == len(sent)  # every call that left is in the ledger
    assert sorted(
        json.dumps(json.loads(left(data_dir, e["id"])), sort_keys=True) for e in cloud
    ) == (sorted(json.dumps(r["body"], sort_keys=True) for r in sent))


def test_local_answers_whole_and_streamed_with_nothing_sent(
    gateway: str, standin: Upstream, data_dir: Path
) -> None:
    before = len(standin.received)
    client = client_for(gateway, "local")
    raw = client.responses.with_raw_response.create(
        model="smollm2", instructions=PROFILE, input=TASK, max_output_tokens=12
    )
    assert raw.headers["x-cogate-mode"] == "local" and raw.parse().output_text.strip()
    events = list(
        client.responses.create(
            model="smollm2", instructions=PROFILE, input=TASK, max_output_tokens=12, stream=True
        )
    )
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].type in ("response.completed", "response.incomplete")
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas.strip() and deltas == events[-1].response.output_text
    assert new_requests(standin, before) == []
    (entry,) = entries_of(data_dir, raw.headers["x-cogate-audit-id"], "local")
    assert entry["kind"] == "local" and entry["bytes"] == 0
    assert left(data_dir, entry["id"]) == b""


def test_what_the_device_cannot_read_is_refused(gateway: str, standin: Upstream) -> None:
    before = len(standin.received)
    client = client_for(gateway, "local")
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="smollm2", input=TASK, previous_response_id="resp_1")
    assert refused.value.body["param"] == "previous_response_id"
    with pytest.raises(openai.BadRequestError, match="responses.create only"):
        client.responses.compact(model="smollm2", input=TASK)
    assert new_requests(standin, before) == []
