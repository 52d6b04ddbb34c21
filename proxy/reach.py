"""Whether each configured upstream can be reached, for `/cogate/health`.

A TCP connection to the upstream's host and port (its DNS name resolved as the gateway
would): nothing is sent, so no credential and no body leaves. Answers are kept a few seconds,
so a monitor polling health does not open a connection per poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

from cogate.core.settings import Settings


def configured_upstreams(settings: Settings) -> dict[str, str]:
    """Name → base URL of every upstream the gateway may forward to."""
    out = {"openai": settings.upstream, "anthropic": settings.anthropic_upstream}
    for host, url in sorted(settings.intercept_upstreams.items()):
        out[f"intercept:{host}"] = url.rstrip("/")
    return out


async def tcp_reachable(url: str, timeout: float) -> str | None:
    """None when a connection to the URL's host and port opens in time, else why not."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return f"no connection within {timeout:g} s"
    except OSError as exc:  # refused, unresolvable name, no route
        return exc.strerror or type(exc).__name__
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None


class UpstreamProbe:
    """Each upstream's reachability, probed concurrently and kept for `ttl` seconds."""

    def __init__(self, settings: Settings, ttl: float = 5.0) -> None:
        self.upstreams = configured_upstreams(settings)
        self.timeout = min(settings.connect_timeout, 3.0)
        self.ttl = ttl
        self._answer: list[dict[str, Any]] = []
        self._at = -ttl - 1.0
        self._lock = asyncio.Lock()

    async def status(self) -> list[dict[str, Any]]:
        async with self._lock:
            if time.monotonic() - self._at > self.ttl:
                names = list(self.upstreams)
                found = await asyncio.gather(
                    *(tcp_reachable(self.upstreams[name], self.timeout) for name in names)
                )
                self._answer = [
                    {"name": name, "url": self.upstreams[name], "reachable": error is None}
                    | ({"error": error} if error else {})
                    for name, error in zip(names, found, strict=True)
                ]
                self._at = time.monotonic()
            return [dict(item) for item in self._answer]
