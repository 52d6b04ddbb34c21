"""The seam between the modes and the only door out: what a runner may ask of the gate.

The gate itself (audit first, then forward) lives in the gateway; collaboration strategies
are typed against these Protocols so they never import it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from .exchange import Exchange
from .reply import Reply
from .settings import Settings


class UpstreamAnswer(Protocol):
    """An upstream answer: read whole (`content`) or still streaming (`chunks()`)."""

    status: int
    headers: dict[str, str]
    audit_id: str
    content: bytes

    @property
    def streamed(self) -> bool:
        """True while the body is still to be read through `chunks()`."""
        ...

    def json(self) -> Any: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


class Egress(Protocol):
    """Audit, then forward; or record that an exchange was answered on the device."""

    settings: Settings

    async def send(
        self,
        ex: Exchange,
        path: str,
        body: dict[str, Any] | bytes | None,
        *,
        stream: bool = False,
        method: str = "POST",
        note: dict[str, Any] | None = None,
        api: str | None = None,  # the API family `body` speaks, when not the app's own
    ) -> UpstreamAnswer: ...

    async def record_local(self, ex: Exchange, note: dict[str, Any] | None = None) -> str: ...

    async def record_egress(
        self, ex: Exchange, host: str, path: str, body: bytes, note: dict[str, Any]
    ) -> str:
        """Record bytes another client sends off the device (the user's model runtime on an
        allowed non-loopback host); awaited before they are sent."""
        ...


class Runner(Protocol):
    """Runs one mode for an exchange whose policy and findings are settled."""

    async def run(self, ex: Exchange, gate: Egress) -> Reply: ...
