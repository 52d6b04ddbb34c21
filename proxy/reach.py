"""Whether each configured upstream can be reached, for `/cogate/health`.

A TCP connection to the upstream's host and port (its DNS name resolved as the gateway
would): nothing is sent, so no credential and no body leaves. Answers are kept a few seconds,
so a monitor polling health does not open a connection per poll. Only the upstreams the
operator configured (flag or variable) are probed: a built-in default nobody chose is listed
unprobed, so a gateway that only forwards to its own upstream opens no other connection (not
even a DNS query for api.anthropic.com).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
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
    except socket.gaierror as exc:  # an unresolvable name
        return exc.strerror or "host name not resolved"
    except OSError as exc:  # refused, no route (the same words on every event loop)
        return os.strerror(exc.errno) if exc.errno else type(exc).__name__
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None


# The settings whose built-in default is a cloud API: probed only when set explicitly.
_DEFAULTED = {"openai": "upstream", "anthropic": "anthropic_upstream"}
_NOT_PROBED = "built-in default, not probed; set it (--upstream, --anthropic-upstream) to check it"


def probed_upstreams(settings: Settings) -> dict[str, str]:
    """The upstreams health checks: those configured, not the built-in defaults."""
    return {
        name: url
        for name, url in configured_upstreams(settings).items()
        if name not in _DEFAULTED or _DEFAULTED[name] in settings.model_fields_set
    }


class UpstreamProbe:
    """Each upstream's reachability, probed concurrently. A probe older than `ttl` seconds
    is refreshed in the background: health answers at once with the last one (only the very
    first call waits), so a slow DNS answer never slows the endpoint monitors poll."""

    def __init__(self, settings: Settings, ttl: float = 5.0) -> None:
        self.upstreams = probed_upstreams(settings)
        self.unprobed = {
            name: url
            for name, url in configured_upstreams(settings).items()
            if name not in self.upstreams
        }
        self.timeout = min(settings.connect_timeout, 3.0)
        self.ttl = ttl
        self._answer: list[dict[str, Any]] | None = None
        self._at = 0.0
        self._refresh: asyncio.Task[None] | None = None

    async def _probe(self) -> None:
        names = list(self.upstreams)
        found = await asyncio.gather(
            *(tcp_reachable(self.upstreams[name], self.timeout) for name in names)
        )
        self._answer = [
            {"name": name, "url": self.upstreams[name], "reachable": error is None}
            | ({"error": error} if error else {})
            for name, error in zip(names, found, strict=True)
        ] + [
            {"name": name, "url": url, "reachable": None, "note": _NOT_PROBED}
            for name, url in self.unprobed.items()
        ]
        self._at = time.monotonic()

    async def status(self) -> list[dict[str, Any]]:
        stale = self._answer is None or time.monotonic() - self._at > self.ttl
        if stale and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.get_running_loop().create_task(self._probe())
        if self._answer is None and self._refresh is not None:
            await asyncio.shield(self._refresh)
        return [dict(item) for item in self._answer or []]
