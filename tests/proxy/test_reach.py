"""Upstream reachability for health: a closed port is unreachable, a listening one is
reachable, and a stale answer is refreshed in the background."""

from __future__ import annotations

import asyncio
import socket

from cogate.core.settings import Settings
from cogate.proxy.reach import UpstreamProbe, configured_upstreams


def test_configured_upstreams_name_every_family() -> None:
    settings = Settings(
        upstream="http://a.test/v1",
        anthropic_upstream="http://b.test",
        intercept_upstreams={"api.openai.com": "http://c.test/v1/"},
    )
    assert configured_upstreams(settings) == {
        "openai": "http://a.test/v1",
        "anthropic": "http://b.test",
        "intercept:api.openai.com": "http://c.test/v1",
    }


def test_reachable_and_unreachable() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    settings = Settings(
        upstream=f"http://127.0.0.1:{port}/v1", anthropic_upstream="http://127.0.0.1:9"
    )

    async def scenario() -> tuple[list, list]:
        probe = UpstreamProbe(settings, ttl=0.0)
        first = await probe.status()
        listener.close()  # the openai upstream goes down
        await probe.status()  # stale: refreshed in the background, last answer returned
        await asyncio.sleep(0.2)
        return first, await probe.status()

    first, later = asyncio.run(scenario())
    assert [(u["name"], u["reachable"]) for u in first] == [("openai", True), ("anthropic", False)]
    assert first[1]["error"] == "Connection refused"
    assert [u["reachable"] for u in later] == [False, False]


def test_a_built_in_default_is_listed_unprobed() -> None:
    """Only what the operator configured is probed: the default Anthropic upstream gets no
    DNS query or connection from a gateway that forwards to its own OpenAI upstream."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    settings = Settings(upstream=f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    found = asyncio.run(UpstreamProbe(settings, ttl=60.0).status())
    listener.close()
    assert [(u["name"], u["reachable"]) for u in found] == [("openai", True), ("anthropic", None)]
    assert "not probed" in found[1]["note"]
