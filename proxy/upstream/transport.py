"""The gateway's httpx transport for http:// and https:// upstreams: a lean keep-alive pool.

httpcore's HTTP/1.1 path writes the headers and the body in two socket writes and parses
the answer with h11 in pure Python; it was about half of the CPU the gateway spends on a
passthrough request. This transport writes each request in one write and parses answers
with httptools (C), behind the same `httpx.AsyncBaseTransport` interface and the same httpx
exceptions, so the egress gate, its fail-closed 502/504 answers and the SSE relays are
unchanged. Connections are pooled per (scheme, host, port) within the client's limits.

Retries: a pooled connection that the upstream closed while it sat idle is noticed before
use (its end-of-file arrives on the event loop) and replaced, nothing having been sent. A
connection that breaks after the request was written and before any byte of an answer is
retried once on a new connection only for idempotent methods (GET, HEAD, OPTIONS, TRACE,
PUT, DELETE) with a body already in memory; a POST is never sent twice, since the upstream
may have acted on it.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx
from cogate.proxy.upstream.conn import IDEMPOTENT, UpstreamConnection

Key = tuple[bytes, bytes, int]
DEFAULT_PORTS = {b"http": 80, b"https": 443}


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 to plain and TLS upstreams; `ssl_context` defaults to httpx's own
    (certifi's roots, hostname checking, SNI), as `httpx.AsyncHTTPTransport` uses."""

    def __init__(
        self, *, limits: httpx.Limits | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self.max_connections = limits.max_connections or 2**31
        self.max_idle = (
            limits.max_keepalive_connections
            if limits.max_keepalive_connections is not None
            else self.max_connections
        )
        self.expiry = limits.keepalive_expiry
        self._ssl = ssl_context
        self.idle: dict[Key, list[UpstreamConnection]] = {}
        self.n_idle = 0
        self.total = 0  # open or opening connections, idle or in use
        self.waiters: deque[asyncio.Future[None]] = deque()
        self.closed = False

    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context(trust_env=False)
            self._ssl.set_alpn_protocols(["http/1.1"])  # as httpcore offers without HTTP/2
        return self._ssl

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.raw_scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        if self.closed:
            raise httpx.ConnectError("the upstream client is closed", request=request)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        key = (url.raw_scheme, url.raw_host, url.port or DEFAULT_PORTS[url.raw_scheme])
        data, more = _serialize(request)
        retry_safe = more is None and request.method.encode() in IDEMPOTENT
        try:
            conn = await self._exchange(key, data, more, request, timeouts, retry_safe)
        except httpx.HTTPError as exc:
            exc.request = request
            raise
        return httpx.Response(
            conn.status,
            headers=conn.headers,
            stream=ResponseBody(self, key, conn, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": conn.reason},
        )

    async def _exchange(
        self,
        key: Key,
        data: bytes,
        more: AsyncIterator[bytes] | None,
        request: httpx.Request,
        timeouts: dict[str, float | None],
        retry_safe: bool,
    ) -> UpstreamConnection:
        """Send the request and read the answer's head; the connection is returned in use."""
        fresh = False
        while True:
            conn, reused = await self._checkout(key, timeouts, fresh=fresh)
            try:
                await conn.send(data, head=request.method == "HEAD", timeout=timeouts.get("write"))
                if more is not None:
                    async for piece in more:
                        await conn.write_more(piece, timeouts.get("write"))
                await conn.read_head(timeouts.get("read"))
                return conn
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                self._drop(conn)
                if not (reused and retry_safe and not conn.received):
                    raise
                fresh, retry_safe = True, False  # once, on a new connection
            except BaseException:
                self._drop(conn)
                raise

    async def _checkout(
        self, key: Key, timeouts: dict[str, float | None], *, fresh: bool
    ) -> tuple[UpstreamConnection, bool]:
        """An idle connection to `key`, else a new one within the limits, else wait."""
        pool_timeout = timeouts.get("pool")
        deadline = None if pool_timeout is None else time.monotonic() + pool_timeout
        while True:
            conn = None if fresh else self._take_idle(key)
            if conn is not None:
                return conn, True
            if self.total < self.max_connections:
                self.total += 1
                try:
                    return await self._connect(key, timeouts.get("connect")), False
                except BaseException:
                    self.total -= 1
                    self._wake_one()
                    raise
            if self._evict_one():
                continue
            await self._wait_for_slot(deadline)

    def _take_idle(self, key: Key) -> UpstreamConnection | None:
        conns = self.idle.get(key)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            self.n_idle -= 1
            expired = self.expiry is not None and now - conn.idle_since > self.expiry
            if conn.usable and not expired:
                return conn
            conn.close()
            self.total -= 1
        return None

    def _evict_one(self) -> bool:
        """Close an idle connection to another host to make room (at the connection limit)."""
        for conns in self.idle.values():
            if conns:
                conns.pop(0).close()
                self.n_idle -= 1
                self.total -= 1
                return True
        return False

    async def _wait_for_slot(self, deadline: float | None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            if deadline is None:
                await waiter
            else:
                await asyncio.wait_for(waiter, max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise httpx.PoolTimeout("no upstream connection became free in time") from None
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # woken, then cancelled: pass the free slot on
            raise
        finally:
            if waiter in self.waiters:
                self.waiters.remove(waiter)

    def _wake_one(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _connect(self, key: Key, timeout: float | None) -> UpstreamConnection:
        scheme, raw_host, port = key
        host = raw_host.decode("ascii")
        loop = asyncio.get_running_loop()
        tls = self.ssl_context() if scheme == b"https" else None
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: UpstreamConnection(loop),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                ),
                timeout,
            )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:  # refused, unreachable, name not found, TLS verification
            raise httpx.ConnectError(f"cannot connect to {host}:{port} ({exc})") from None
        return conn

    def release(self, key: Key, conn: UpstreamConnection) -> None:
        """Back to the pool if its answer was read to the end and it may be reused."""
        conn.active = False
        if conn.reusable and not self.closed and self.n_idle < self.max_idle:
            conn.served += 1
            conn.idle_since = time.monotonic()
            self.idle.setdefault(key, []).append(conn)
            self.n_idle += 1
        else:
            conn.close()
            self.total -= 1
        self._wake_one()

    def _drop(self, conn: UpstreamConnection) -> None:
        conn.active = False
        conn.close()
        self.total -= 1
        self._wake_one()

    async def aclose(self) -> None:
        self.closed = True
        for conns in self.idle.values():
            for conn in conns:
                conn.close()
                self.total -= 1
        self.idle.clear()
        self.n_idle = 0


class ResponseBody(httpx.AsyncByteStream):
    """An answer's body as it arrives; closing it early closes the connection."""

    def __init__(
        self, pool: LeanTransport, key: Key, conn: UpstreamConnection, timeout: float | None
    ) -> None:
        self.pool, self.key, self.conn, self.timeout = pool, key, conn, timeout
        self.released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self.conn
        while not self.released:
            chunk = await conn.read_chunk(self.timeout)
            if chunk is None:
                break
            yield chunk
        await self.aclose()

    async def aclose(self) -> None:
        if not self.released:
            self.released = True
            self.pool.release(self.key, self.conn)


def _serialize(request: httpx.Request) -> tuple[bytes, AsyncIterator[bytes] | None]:
    """The request line, headers and (when in memory) body as one buffer; a streamed body
    is returned to be written after it, chunk-framed when the headers say so."""
    out = bytearray(request.method.encode("ascii"))
    out += b" " + request.url.raw_path + b" HTTP/1.1\r\n"
    chunked = False
    for name, value in request.headers.raw:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name or b":" in name:
            raise httpx.LocalProtocolError("a header contains a line break", request=request)
        out += name + b": " + value + b"\r\n"
        chunked = chunked or (name.lower() == b"transfer-encoding" and b"chunked" in value.lower())
    out += b"\r\n"
    try:
        body = request.content
    except httpx.RequestNotRead:
        return bytes(out), _framed(request.stream, chunked)
    out += body
    return bytes(out), None


async def _framed(stream: Any, chunked: bool) -> AsyncIterator[bytes]:
    async for piece in stream:
        if not chunked:
            yield piece
        elif piece:
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
    if chunked:
        yield b"0\r\n\r\n"
