"""One HTTP/1.1 connection to an upstream: an asyncio Protocol parsing answers with httptools.

The request line, headers and body leave in one write; the answer is parsed as it arrives
(content-length, chunked or close-delimited bodies) and handed to the reader chunk by chunk.
A connection is reusable only when its last answer was read to the end and both sides
allow keep-alive; anything else (an error, a cancellation, a reader that stopped early)
closes it. Errors are raised as the httpx exceptions httpcore's transport would raise, so
the gateway's fail-closed paths see no difference.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import httptools
import httpx

# Read no further ahead of a slow reader than this (a streamed answer is relayed as it comes).
HIGH_WATER = 256 * 1024
FRAMING = (b"content-length", b"transfer-encoding")
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"})


class UpstreamConnection(asyncio.Protocol):
    """A connection and the state of the answer it is reading (one request at a time)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        # asyncio's or uvloop's transport (uvloop's is not an asyncio.Transport subclass).
        self.transport: Any = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False  # the peer closed, the connection broke, or we closed it
        self.lost: BaseException | None = None
        self.idle_since = time.monotonic()
        self.served = 0  # answers read to the end on this connection
        self.paused = False  # reading paused until the reader catches up
        self.active = False  # a request is under way (set and cleared by the transport)
        self._can_write: asyncio.Future[None] | None = None
        self._reset(head=False)

    def _reset(self, *, head: bool) -> None:
        self.head = head  # a HEAD answer has no body whatever its headers say
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.received = False  # any byte of this answer arrived
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.until_close = False  # the body ends when the peer closes
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    # asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.active:
            self.close()  # bytes nobody asked for: the connection is no longer in step
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed answer from the upstream: {exc}"))
            self.close()
            return
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        self.closed = True
        return None  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.lost = exc
        if self.until_close and self.headers_done and exc is None:
            self.complete = True  # a close-delimited body ends here
        elif not self.complete and self.error is None:
            if exc is not None:
                self.error = httpx.ReadError(f"the upstream connection broke ({exc!r})")
            elif self.headers_done:
                self.error = httpx.RemoteProtocolError(
                    "the upstream closed the connection before the end of the body"
                )
            else:
                self.error = httpx.RemoteProtocolError(
                    "the upstream closed the connection without answering"
                )
        self._wake()
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)

    def pause_writing(self) -> None:
        self._can_write = self.loop.create_future()

    def resume_writing(self) -> None:
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)
        self._can_write = None

    # httptools callbacks --------------------------------------------------------------------
    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if 100 <= self.status < 200:
            return  # an interim answer (100 Continue): the real one follows
        self.headers_done = True
        framed = any(
            n.lower() in (b"content-length", b"transfer-encoding") for n, _ in self.headers
        )
        if self.head or self.status in (204, 304):
            self.complete = True
        elif not framed:
            self.until_close = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        self._wake()

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:
            self.reason, self.headers = b"", []
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()  # llhttp forgets it after this call
        self._wake()

    # used by the transport ----------------------------------------------------------------
    @property
    def usable(self) -> bool:
        """Idle and still open on both sides (a peer's close arrives as eof_received)."""
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    @property
    def reusable(self) -> bool:
        return (
            self.complete
            and not self.chunks
            and not self.until_close
            and not self.head  # simpler than trusting a HEAD answer's framing
            and self.error is None
            and self.usable
            and self.keep_alive
        )

    async def send(self, data: bytes, *, head: bool, timeout: float | None) -> None:
        """Write a whole request at once (waiting only if the socket's buffer is full)."""
        self._reset(head=head)
        self.active = True
        assert self.transport is not None
        self.transport.write(data)
        if self._can_write is not None:
            await self._wait(self._can_write, timeout, httpx.WriteTimeout)
        if self.error is not None and not self.received:
            raise self.error

    async def write_more(self, data: bytes, timeout: float | None) -> None:
        """Further body bytes of a streamed request."""
        assert self.transport is not None
        if self.closed:
            raise self.error or httpx.WriteError("the upstream connection closed")
        self.transport.write(data)
        if self._can_write is not None:
            await self._wait(self._can_write, timeout, httpx.WriteTimeout)

    async def read_head(self, timeout: float | None) -> None:
        while not self.headers_done:
            if self.error is not None:
                raise self.error
            await self._wait_data(timeout)

    async def read_chunk(self, timeout: float | None) -> bytes | None:
        """The next piece of the body, or None at its end."""
        while True:
            if self.chunks:
                chunk = self.chunks.popleft()
                self.buffered -= len(chunk)
                if self.paused and self.buffered <= HIGH_WATER // 4 and not self.closed:
                    self.paused = False
                    self.transport.resume_reading()
                return chunk
            if self.complete:
                return None
            if self.error is not None:
                raise self.error
            await self._wait_data(timeout)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait_data(self, timeout: float | None) -> None:
        self._waiter = self.loop.create_future()
        try:
            await self._wait(self._waiter, timeout, httpx.ReadTimeout)
        finally:
            self._waiter = None

    async def _wait(
        self,
        future: asyncio.Future[None],
        timeout: float | None,
        error: type[httpx.TimeoutException],
    ) -> None:
        if timeout is None:
            await future
            return
        expired = False

        def expire() -> None:
            nonlocal expired
            if not future.done():
                expired = True
                future.set_result(None)

        handle = self.loop.call_later(timeout, expire)
        try:
            await future
        finally:
            handle.cancel()
        if expired:
            raise error(f"no progress from the upstream within {timeout:g} s")
