"""Cut clients that send a request too slowly (slow-loris), before they hold a connection
and a task open indefinitely, with or without a token.

uvicorn bounds the idle time between requests on a kept-alive connection, not the time a
client takes to send one: a partial request line, or a body that trickles in, stays open
forever. This protocol gives a request's headers `header_timeout_s` from its first byte
(or from the connection's opening) and its whole body `body_timeout_s` from the end of its
headers; a client slower than that is disconnected. Once the body is in, the gateway's own
work and the answer's stream are not limited here.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("cogate.serve")


def guarded_protocol(header_timeout_s: float, body_timeout_s: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the two read deadlines (pass it as `http=`)."""

    class SlowClientGuard(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None

        def _arm(self, seconds: float, phase: str) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._cut, phase, seconds)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _cut(self, phase: str, seconds: float) -> None:
            self._deadline = None
            if self.transport is None or self.transport.is_closing():
                return
            # No address or request content in the log: a count of cuts is what matters.
            log.warning("closed a connection whose request %s took over %gs", phase, seconds)
            self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_timeout_s, "headers")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(header_timeout_s, "headers")

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._arm(body_timeout_s, "body")

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._disarm()  # the request is in: the gateway's own work is not limited here

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return SlowClientGuard
