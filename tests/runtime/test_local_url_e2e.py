"""`cogate serve --local-url`: the user's own runtime (llama.cpp's server, started here as a
second process on its own port, and on a unix socket) serves sketch, local and logits on the
Chat, Responses and Messages surfaces, streamed and not; nothing private reaches the cloud;
the health-local route keeps a conversation local; a runtime off this device is refused
unless allowed, and then every call to it is an egress entry."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from cogate.proxy.servers import BIN, cogate_server, free_port, llama_server

from ..standins.messages_upstream import messages_upstream
from ..standins.responses_upstream import responses_upstream
from .user_runtime import CloudDoor, cloud_door, unix_llama_server

pytestmark = pytest.mark.e2e

PROFILE = (
    "## User Profile\nName: Isabel Martinez\nLocation: Miami, Florida\n"
    "Privacy_info: Hosts a monthly dinner she calls the 'synergy supper'; is writing a book "
    'called "Selling Blue Water"\n'
)
TASK = "## Task\nWrite a short invitation to a dinner party for clients."
PRIVATE = ("Isabel", "Martinez", "Miami", "synergy supper", "Selling Blue Water")
HEALTH_LOCAL = (
    "mode: redact\n"
    "routes:\n"
    "  - name: health-local\n    match: {found: [HEALTH]}\n    mode: local\n    sticky: true\n"
)
TOKENS = 12


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The user's runtime: llama.cpp's server as a second process on its own port."""
    with llama_server(tmp_path_factory.mktemp("user-runtime")) as url:
        yield url


@pytest.fixture(scope="module")
def door(llama_upstream: str) -> Iterator[CloudDoor]:
    with (
        responses_upstream(llama_upstream) as responses,
        messages_upstream(llama_upstream) as messages,
        cloud_door(llama_upstream, responses.url, messages.url) as door,
    ):
        yield door


def serve(work: Path, door: CloudDoor, local_url: str, *extra: str):
    policy = work / "policy.yaml"
    policy.write_text(HEALTH_LOCAL)
    args = ["--anthropic-upstream", door.url, "--policy", str(policy), "--local-url", local_url]
    return cogate_server(work, door.url + "/v1", args=[*args, *extra])


@pytest.fixture(scope="module")
def gateway(
    runtime: str, door: CloudDoor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("local-url-gateway"), door, runtime) as url:
        yield url


def openai_client(base: str, mode: str | None = None, **headers: str) -> openai.OpenAI:
    extra = {"x-cogate-mode": mode} if mode else {}
    return openai.OpenAI(
        base_url=base,
        api_key="sk-test",
        max_retries=0,
        timeout=600,
        default_headers={**extra, **headers},
    )


def ask(surface: str, base: str, mode: str, stream: bool) -> tuple[str, dict[str, str]]:
    """(answer text, response headers) through the official SDK of `surface`."""
    text = f"{PROFILE}\n{TASK}"
    if surface == "messages":
        client = anthropic.Anthropic(
            base_url=base.removesuffix("/v1"),
            api_key="sk-ant-test",
            max_retries=0,
            timeout=600,
            default_headers={"x-cogate-mode": mode},
        )
        messages: Any = [{"role": "user", "content": text}]
        if stream:
            with client.messages.stream(
                model="claude-x", max_tokens=TOKENS, messages=messages
            ) as events:
                return "".join(events.text_stream), dict(events.response.headers)
        raw = client.messages.with_raw_response.create(
            model="claude-x", max_tokens=TOKENS, messages=messages
        )
        return raw.parse().content[0].text, dict(raw.headers)
    oa = openai_client(base, mode)
    if surface == "responses":
        if stream:
            events = oa.responses.create(
                model="gpt-x", input=text, max_output_tokens=TOKENS, stream=True
            )
            pieces = [e.delta for e in events if e.type == "response.output_text.delta"]
            return "".join(pieces), dict(events.response.headers)
        raw = oa.responses.with_raw_response.create(
            model="gpt-x", input=text, max_output_tokens=TOKENS
        )
        return raw.parse().output_text, dict(raw.headers)
    chat: Any = [{"role": "user", "content": text}]
    if stream:
        chunks = oa.chat.completions.create(
            model="gpt-x", messages=chat, max_tokens=TOKENS, stream=True, temperature=0
        )
        pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
        return "".join(pieces), dict(chunks.response.headers)
    raw = oa.chat.completions.with_raw_response.create(
        model="gpt-x", messages=chat, max_tokens=TOKENS, temperature=0
    )
    return raw.parse().choices[0].message.content or "", dict(raw.headers)


def test_health_shows_the_runtime_and_what_it_can_do(gateway: str, runtime: str) -> None:
    local = httpx.get(gateway.removesuffix("/v1") + "/cogate/health").json()["local_model"]
    assert local["runtime"] == runtime and local["remote"] is False
    caps = local["capabilities"]
    assert caps["reachable"] and caps["chat"] and caps["completions"]
    assert caps["top_logprobs"] >= 2


CASES = [
    ("chat", "sketch", False),
    ("chat", "local", True),
    ("chat", "logits", False),
    ("chat", "logits", True),
    ("responses", "sketch", True),
    ("responses", "local", False),
    ("responses", "logits", True),
    ("messages", "sketch", False),
    ("messages", "local", True),
    ("messages", "logits", False),
]


@pytest.mark.parametrize(("surface", "mode", "stream"), CASES)
def test_modes_run_on_the_users_runtime(
    gateway: str, door: CloudDoor, surface: str, mode: str, stream: bool
) -> None:
    before = door.count()
    text, headers = ask(surface, gateway, mode, stream)
    assert text.strip(), "the runtime wrote nothing"
    assert headers["x-cogate-mode"] == mode, headers.get("x-cogate-logits-fallback")
    sent = door.since(before)
    if mode == "local":
        assert sent == []
    else:
        assert sent, "the cloud was never asked"
    for body in sent:
        for item in PRIVATE:
            assert item.lower() not in body.lower(), f"{item!r} reached the cloud"


def test_the_health_local_route_keeps_a_conversation_local(gateway: str, door: CloudDoor) -> None:
    def turn(conversation: str, text: str) -> dict[str, str]:
        client = openai_client(gateway, **{"x-cogate-conversation": conversation})
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-x", messages=[{"role": "user", "content": text}], max_tokens=8
        )
        assert raw.parse().choices[0].message.content is not None
        return dict(raw.headers)

    before = door.count()
    first = turn("c-health", "I was diagnosed with bipolar disorder. How do I tell my boss?")
    assert first["x-cogate-mode"] == "local"
    assert first["x-cogate-route"] == "health-local; reason=found:HEALTH"
    later = turn("c-health", "And what should I cook for dinner tonight?")
    assert later["x-cogate-mode"] == "local"
    assert later["x-cogate-route"] == "health-local; reason=sticky"
    assert door.count() == before  # neither turn reached the cloud
    other = turn("c-other", "And what should I cook for dinner tonight?")
    assert other["x-cogate-mode"] == "redact" and "x-cogate-route" not in other
    assert door.count() == before + 1


def test_a_responses_chain_that_went_local_stays_off_the_cloud(
    gateway: str, door: CloudDoor
) -> None:
    client = openai_client(gateway)
    before = door.count()
    first = client.responses.with_raw_response.create(
        model="gpt-x",
        input="My psychiatrist changed my lithium dose. Any advice?",
        max_output_tokens=8,
    )
    assert first.headers["x-cogate-route"] == "health-local; reason=found:HEALTH"
    # The next turn continues the local answer: it stays local, where the stored history
    # cannot be read, so it is refused naming the field; it never reaches the cloud.
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(
            model="gpt-x",
            input="Thanks. Anything else?",
            max_output_tokens=8,
            previous_response_id=first.parse().id,
        )
    assert "previous_response_id" in str(refused.value)
    assert door.count() == before


def test_a_runtime_off_this_device_is_refused_naming_the_rule(tmp_path: Path) -> None:
    url = "http://10.0.0.5:11434/v1"  # never contacted: refused before anything starts
    cmd = [str(BIN / "cogate"), "serve", "--data-dir", str(tmp_path), "--local-url", url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "the local model must be local" in done.stderr
    assert "--local-allow-host 10.0.0.5" in done.stderr


def ledger(data_dir: Path) -> list[tuple[dict[str, Any], bytes]]:
    (db,) = list(data_dir.rglob("ledger.sqlite3"))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT entry, body FROM entries ORDER BY rowid").fetchall()
    return [(json.loads(entry), body or b"") for entry, body in rows]


def test_an_allowed_host_gets_an_egress_entry_per_call(
    runtime: str, door: CloudDoor, tmp_path: Path
) -> None:
    # 0.0.0.0 is no loopback address, yet reaches this machine's own runtime: the allowed
    # path runs without traffic to any other host.
    port = runtime.split(":")[2].split("/")[0]
    url = f"http://0.0.0.0:{port}/v1"
    with serve(tmp_path, door, url, "--local-allow-host", "0.0.0.0") as gateway:
        health = httpx.get(gateway.removesuffix("/v1") + "/cogate/health").json()
        assert health["local_model"]["remote"] is True
        text, headers = ask("chat", gateway, "local", False)
        assert text.strip() and headers["x-cogate-mode"] == "local"
    entries = ledger(tmp_path / "data")
    to_runtime = [(e, b) for e, b in entries if e["destination"]["host"] == f"0.0.0.0:{port}"]
    assert len(to_runtime) == 1, [e["destination"] for e, _ in entries]
    entry, body = to_runtime[0]
    assert entry["kind"] == "egress"
    assert entry["destination"]["path"] == "/v1/chat/completions"
    assert entry["note"]["purpose"] == "local runtime"
    assert "Isabel Martinez" in body.decode()  # what left the device, as it left


def test_a_unix_socket_runtime_and_one_that_stops(door: CloudDoor, tmp_path: Path) -> None:
    with (
        unix_llama_server(tmp_path) as (url, proc),
        serve(tmp_path, door, url) as gateway,
    ):
        text, headers = ask("chat", gateway, "local", False)
        assert text.strip() and headers["x-cogate-mode"] == "local"
        client = openai_client(gateway, "local")
        chunks = client.chat.completions.create(
            model="gpt-x",
            messages=[{"role": "user", "content": "Tell me a long story about a lighthouse."}],
            max_tokens=400,
            stream=True,
        )
        seen, error = 0, None
        try:
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    seen += 1
                    if seen == 2:
                        proc.kill()  # the runtime stops mid-answer
        except openai.APIError as exc:
            error = exc
        assert error is not None, "the stream ended as if the answer were complete"
        assert "local_model_unavailable" in str(error.body) or "unavailable" in str(error)
        before = door.count()
        failed = httpx.post(
            gateway + "/chat/completions",
            headers={"x-cogate-mode": "local"},
            json={"model": "x", "messages": [{"role": "user", "content": "Hi"}]},
            timeout=120,
        )
        assert failed.status_code == 503
        assert failed.json()["error"]["code"] == "local_model_unavailable"
        assert url in failed.json()["error"]["message"]
        assert door.count() == before  # never a silent cloud call


def test_serve_takes_the_runtime_from_the_environment(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: serve starts, health says unreachable
    env = {"COGATE_LOCAL_URL": f"http://127.0.0.1:{port}/v1"}
    with cogate_server(tmp_path, "http://127.0.0.1:9/v1", env=env) as gateway:
        local = httpx.get(gateway.removesuffix("/v1") + "/cogate/health").json()["local_model"]
    assert local["runtime"] == env["COGATE_LOCAL_URL"]
    assert local["capabilities"]["reachable"] is False
