"""The user's runtime must be local: its URL checked and pinned once (collab/endpoint.py)."""

from __future__ import annotations

import pytest
from cogate.collab.endpoint import RuntimeNotLocal, resolve_endpoint
from cogate.collab.http_model import parse_logprobs


def resolver(table: dict[str, list[str]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise OSError("no such host")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def test_loopback_names_and_addresses_are_local() -> None:
    names = resolver({"localhost": ["127.0.0.1", "::1"], "127.0.0.1": ["127.0.0.1"]})
    for url in ("http://localhost:11434/v1", "http://127.0.0.1:1234/v1"):
        endpoint = resolve_endpoint(url, resolver=names)
        assert not endpoint.remote and endpoint.address == "127.0.0.1"
        assert endpoint.base_path == "/v1"


def test_a_unix_socket_is_local() -> None:
    endpoint = resolve_endpoint("unix:/run/llm.sock")
    assert endpoint.scheme == "unix" and not endpoint.remote
    assert endpoint.request_url("models") == "http://localhost/v1/models"
    with pytest.raises(RuntimeNotLocal, match="absolute path"):
        resolve_endpoint("unix:llm.sock")


def test_another_host_is_refused_naming_the_rule_and_the_fix() -> None:
    names = resolver({"10.0.0.5": ["10.0.0.5"], "box.lan": ["192.168.1.9"]})
    with pytest.raises(RuntimeNotLocal) as refused:
        resolve_endpoint("http://10.0.0.5:11434/v1", resolver=names)
    assert "must be local" in str(refused.value)
    assert "--local-allow-host 10.0.0.5" in str(refused.value)
    # A name that resolves to loopback and elsewhere is not local either.
    mixed = resolver({"sneaky.lan": ["127.0.0.1", "192.168.1.9"]})
    with pytest.raises(RuntimeNotLocal):
        resolve_endpoint("http://sneaky.lan:8080/v1", resolver=mixed)


def test_an_allowed_host_is_remote_and_pinned_to_the_address_resolved_once() -> None:
    names = resolver({"box.lan": ["192.168.1.9"]})
    endpoint = resolve_endpoint("http://box.lan:8000/v1", ["Box.lan"], resolver=names)
    assert endpoint.remote and endpoint.address == "192.168.1.9"
    # Calls go to the pinned address with the name as Host: no second resolution.
    assert endpoint.request_url("chat/completions") == "http://192.168.1.9:8000/v1/chat/completions"
    assert endpoint.headers() == {"host": "box.lan:8000"}
    assert names.calls == ["box.lan"]  # type: ignore[attr-defined]


def test_an_unresolvable_name_is_refused() -> None:
    with pytest.raises(RuntimeNotLocal, match="cannot resolve"):
        resolve_endpoint("http://nowhere.invalid:1/v1", resolver=resolver({}))


def test_both_logprob_shapes_parse() -> None:
    legacy = {
        "choices": [
            {
                "logprobs": {
                    "tokens": [" Paris"],
                    "token_logprobs": [-0.2],
                    "top_logprobs": [{" Paris": -0.2, " the": -2.0}],
                }
            }
        ]
    }
    (step,) = parse_logprobs(legacy)
    assert step.token == b" Paris" and step.top == {b" Paris": -0.2, b" the": -2.0}
    server = {
        "choices": [
            {
                "logprobs": {
                    "content": [
                        {
                            "token": " Par",
                            "logprob": -0.1,
                            "bytes": [32, 80, 97, 114],
                            "top_logprobs": [{"token": " Par", "logprob": -0.1, "bytes": None}],
                        }
                    ]
                }
            }
        ]
    }
    (step,) = parse_logprobs(server)
    assert step.token == b" Par" and step.top == {b" Par": -0.1}
