"""The lean upstream transport against real asyncio servers on loopback (no mocks)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cogate.proxy.upstream.conn import UpstreamConnection
from cogate.proxy.upstream.transport import LeanTransport

from tests.tls import self_signed

pytestmark = pytest.mark.anyio


@pytest.fixture(
    params=[("asyncio", {}), ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, bool]]:
    """`cogate serve` runs on uvloop, whose transports differ from asyncio's."""
    return request.param


Answer = Callable[[asyncio.StreamWriter, bytes, bytes], Awaitable[bool]]
OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'


class Upstream:
    """A raw HTTP/1.1 server: `answer` writes each reply and says whether to keep the
    connection open; it records every connection and request."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.closed_by_client = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    self.closed_by_client.set()
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                if not await self.answer(writer, head, body):
                    return
        finally:
            writer.close()


@asynccontextmanager
async def serving(
    answer: Answer, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> AsyncIterator[tuple[Upstream, str]]:
    upstream = Upstream(answer)
    server = await asyncio.start_server(upstream.handle, host, 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    scheme = "https" if tls else "http"
    try:
        yield upstream, f"{scheme}://{'localhost' if tls else host}:{port}"
    finally:
        server.close()


async def ok(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
    writer.write(OK)
    return True


def client(transport: LeanTransport, **timeouts: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0, **timeouts))


async def test_keep_alive_reuses_one_connection_and_sends_each_request_in_one_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes: list[bytes] = []
    made = UpstreamConnection.connection_made

    class Recorder:
        """The real socket transport, with every write it is asked for recorded."""

        def __init__(self, transport: Any) -> None:
            self.transport = transport

        def write(self, data: bytes) -> None:
            writes.append(bytes(data))
            self.transport.write(data)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.transport, name)

    def spy(self: UpstreamConnection, transport: asyncio.BaseTransport) -> None:
        made(self, Recorder(transport))  # type: ignore[arg-type]

    monkeypatch.setattr(UpstreamConnection, "connection_made", spy)
    async with serving(ok) as (upstream, base), client(LeanTransport()) as http:
        for n in range(3):
            response = await http.post(f"{base}/v1/chat", json={"n": n})
            assert response.json() == {"ok": True}
    assert upstream.connections == 1
    assert len(upstream.requests) == 3
    assert len(writes) == 3
    head, body = upstream.requests[2]
    assert writes[2] == head + body
    assert head.startswith(b"POST /v1/chat HTTP/1.1\r\n") and body == b'{"n":2}'


async def test_chunked_answer_is_streamed_piece_by_piece_then_reused() -> None:
    release = asyncio.Event()

    async def chunked(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await release.wait()
        writer.write(b"6\r\n world\r\n0\r\n\r\n")
        return True

    async with serving(chunked) as (upstream, base), client(LeanTransport()) as http:
        async with http.stream("GET", f"{base}/s") as response:
            pieces = response.aiter_raw()
            assert await pieces.__anext__() == b"hello"  # before the rest was even sent
            release.set()
            assert b"".join([p async for p in pieces]) == b" world"
        release.set()
        assert (await http.get(f"{base}/again")).content == b"hello world"
    assert upstream.connections == 1


async def test_content_length_body_and_headers_are_relayed() -> None:
    async def answer(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(
            b"HTTP/1.1 201 Created\r\nX-Thing: a\r\nx-thing: b\r\ncontent-length: 3\r\n\r\n"
        )
        await asyncio.sleep(0.01)
        writer.write(b"abc")
        return True

    async with serving(answer) as (_, base), client(LeanTransport()) as http:
        response = await http.get(f"{base}/")
    assert response.status_code == 201
    assert response.reason_phrase == "Created"
    assert response.headers.get_list("x-thing") == ["a", "b"]
    assert response.content == b"abc"


async def test_close_delimited_body_ends_at_close_and_the_connection_is_not_reused() -> None:
    async def answer(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end")
        return False

    async with serving(answer) as (upstream, base), client(LeanTransport()) as http:
        assert (await http.get(f"{base}/")).text == "until the end"
        assert (await http.get(f"{base}/")).text == "until the end"
    assert upstream.connections == 2


async def test_an_idle_connection_the_server_closed_is_replaced_before_sending() -> None:
    async def once(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(OK)
        await writer.drain()
        return False  # the server closes the kept-alive connection right after answering

    async with serving(once) as (upstream, base), client(LeanTransport()) as http:
        assert (await http.post(f"{base}/", content=b"1")).status_code == 200
        await asyncio.sleep(0.05)  # the close reaches the idle connection
        assert (await http.post(f"{base}/", content=b"2")).status_code == 200
    assert upstream.connections == 2
    assert [body for _, body in upstream.requests] == [b"1", b"2"]


def dies_on_second_request() -> Answer:
    seen = 0

    async def answer(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        nonlocal seen
        seen += 1
        if seen == 2:
            return False  # read the request, close without a byte of answer
        writer.write(OK)
        return True

    return answer


async def test_a_post_on_a_connection_that_breaks_before_answering_is_not_sent_twice() -> None:
    async with (
        serving(dies_on_second_request()) as (upstream, base),
        client(LeanTransport()) as http,
    ):
        await http.post(f"{base}/", content=b"1")
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(f"{base}/", content=b"2")
        assert (await http.post(f"{base}/", content=b"3")).status_code == 200
    assert [body for _, body in upstream.requests] == [b"1", b"2", b"3"]


async def test_a_get_on_a_connection_that_breaks_before_answering_is_retried_once() -> None:
    async with (
        serving(dies_on_second_request()) as (upstream, base),
        client(LeanTransport()) as http,
    ):
        await http.get(f"{base}/a")
        assert (await http.get(f"{base}/b")).status_code == 200
    assert [head.split(b" ")[1] for head, _ in upstream.requests] == [b"/a", b"/b", b"/b"]
    assert upstream.connections == 2


async def test_a_body_not_read_to_the_end_closes_the_connection() -> None:
    async def endless(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        if head.startswith(b"GET /stream"):
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n")
            await asyncio.sleep(30)
            return False
        writer.write(OK)
        return True

    transport = LeanTransport()
    async with serving(endless) as (upstream, base), client(transport) as http:
        async with http.stream("GET", f"{base}/stream") as response:
            async for _ in response.aiter_raw():
                break  # the caller goes away after the first piece
        assert transport.total == 0 and transport.n_idle == 0  # closed, not pooled
        assert (await http.get(f"{base}/after")).status_code == 200
    assert upstream.connections == 2


async def test_a_cancelled_request_closes_its_connection() -> None:
    async def slow(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        if head.startswith(b"GET /slow"):
            await asyncio.sleep(30)
        writer.write(OK)
        return True

    transport = LeanTransport()
    async with serving(slow) as (upstream, base), client(transport) as http:
        task = asyncio.ensure_future(http.get(f"{base}/slow"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert transport.total == 0 and transport.n_idle == 0
        assert (await http.get(f"{base}/fast")).status_code == 200
    assert upstream.connections == 2


async def test_an_answer_cut_short_raises_remote_protocol_error() -> None:
    async def short(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
        return False

    async with serving(short) as (_, base), client(LeanTransport()) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{base}/")


async def test_garbage_from_the_upstream_raises_remote_protocol_error() -> None:
    async def garbage(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        return True

    async with serving(garbage) as (_, base), client(LeanTransport()) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{base}/")


async def test_read_timeout_when_the_upstream_stops_sending() -> None:
    async def silent(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        if head.startswith(b"GET /mid"):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
        await asyncio.sleep(30)
        return False

    async with serving(silent) as (_, base), client(LeanTransport(), read=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{base}/head")
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{base}/mid")


async def test_connect_error_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: the connection is refused
        async with client(LeanTransport()) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{port}/")


async def test_connect_timeout_when_the_listener_never_accepts() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # fill the accept queue: further handshakes are not answered
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        async with client(LeanTransport(), connect=0.3) as http:
            with pytest.raises(httpx.ConnectTimeout):
                await http.get(f"http://127.0.0.1:{port}/")
    finally:
        for sock in [*fillers, listener]:
            sock.close()


async def test_pool_timeout_when_every_connection_is_in_use() -> None:
    async def hold(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n")
        await asyncio.sleep(30)
        return False

    transport = LeanTransport(limits=httpx.Limits(max_connections=1))
    async with (
        serving(hold) as (_, base),
        client(transport, pool=0.2) as http,
        http.stream("GET", f"{base}/held"),
    ):
        with pytest.raises(httpx.PoolTimeout):
            await http.get(f"{base}/waits")


async def test_a_freed_connection_lets_a_waiting_request_through() -> None:
    transport = LeanTransport(limits=httpx.Limits(max_connections=1))
    async with serving(ok) as (upstream, base), client(transport) as http:
        results = await asyncio.gather(*(http.get(f"{base}/{n}") for n in range(5)))
    assert [r.status_code for r in results] == [200] * 5
    assert upstream.connections == 1


async def test_write_timeout_when_the_upstream_stops_reading() -> None:
    async def never_reads(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(never_reads, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with client(LeanTransport(), write=0.3) as http:
            with pytest.raises(httpx.WriteTimeout):
                await http.post(f"http://127.0.0.1:{port}/", content=b"x" * (64 * 1024 * 1024))
    finally:
        server.close()


async def test_tls_upstream_with_its_ca_trusted_and_refused_without(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "localhost", loopback_ip=False)  # not for 127.0.0.1
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    seen_sni: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, ctx: seen_sni.append(name)  # type: ignore[assignment,misc]
    async with serving(ok, tls=server_tls) as (upstream, base):
        trusting = ssl.create_default_context(cafile=str(cert))
        async with client(LeanTransport(ssl_context=trusting)) as http:
            for _ in range(2):
                assert (await http.get(f"{base}/")).json() == {"ok": True}
        assert upstream.connections == 1
        assert seen_sni == ["localhost"]
        # The default context trusts certifi's roots only, as httpx's transport does.
        async with client(LeanTransport()) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"{base}/")
        # A certificate for another name is refused even when its CA is trusted.
        async with client(LeanTransport(ssl_context=trusting)) as http:
            port = base.rsplit(":", 1)[1]
            with pytest.raises(httpx.ConnectError, match="(?i)certificate|match"):
                await http.get(f"https://127.0.0.1:{port}/")
