"""Sketch mode with a cloud that is down: local fallback only where the policy allows it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.servers import cogate_server, free_port

pytestmark = pytest.mark.e2e

REQUEST = {
    "model": "smollm2",
    "max_tokens": 16,
    "messages": [
        {"role": "system", "content": "Name: Jane Roe. Location: Lisbon."},
        {"role": "user", "content": "Write a two-line poem about the sea."},
    ],
}


@pytest.mark.parametrize("allowed", [True, False])
def test_sketch_falls_back_to_local_only_when_the_policy_allows(tmp_path: Path, allowed: bool):
    dead_upstream = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    policy = tmp_path / "p.yaml"
    policy.write_text(f"mode: sketch\ncollab:\n  fallback_local: {str(allowed).lower()}\n")
    with cogate_server(tmp_path, dead_upstream, args=["--policy", str(policy)]) as url:
        response = httpx.post(f"{url}/chat/completions", json=REQUEST, timeout=300, trust_env=False)
    if allowed:
        assert response.status_code == 200, response.text
        assert response.headers["x-cogate-fallback"].startswith("local")
        assert response.json()["choices"][0]["message"]["content"]
    else:
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "upstream_unreachable"
