"""The only door out of the device: every upstream call is audited before it is sent.

`EgressGate.send` writes the write-ahead `egress` ledger entry, then forwards the exact
bytes it recorded, and writes the `completion` entry when the answer has been read (or
the stream has ended, failed or been cancelled).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
from cogate.audit.records import Ledger
from cogate.core import sse
from cogate.core.errors import GatewayError, LedgerUnavailable, UpstreamTimeout, UpstreamUnreachable
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.core.surface import forward_headers
from cogate.core.wire import encode_json
from cogate.proxy.egress.completion_writer import CompletionWriter
from cogate.proxy.egress.ledger_threads import LedgerThreads
from cogate.proxy.egress.records import (
    completion_record,
    egress_record,
    local_record,
    refusal_record,
)
from cogate.proxy.metrics import Metrics
from cogate.proxy.upstream.client import forwarder, response_headers

log = logging.getLogger("cogate.egress")


@dataclass
class UpstreamReply:
    """An upstream answer: read whole (`content`) or still streaming (`stream`)."""

    status: int
    headers: dict[str, str]
    audit_id: str
    content: bytes = b""
    response: httpx.Response | None = None
    _finish: Any = field(default=None, repr=False)

    @property
    def streamed(self) -> bool:
        return self.response is not None

    def json(self) -> Any:
        return json.loads(self.content)

    async def chunks(self) -> AsyncIterator[bytes]:
        """Relay a streamed body as it arrives; records the completion however it ends."""
        assert self.response is not None, "chunks() is only for streamed replies"
        outcome, error = "ok", None
        tail = b""
        try:
            # Decoded bytes: content-encoding is not relayed to the app.
            async for chunk in self.response.aiter_bytes():
                yield chunk
                tail = (tail + chunk)[-sse.TAIL_BYTES :]  # taken by the relay
        except httpx.TimeoutException:
            outcome, error = "timeout", "upstream stopped sending within the read timeout"
            raise UpstreamTimeout("the upstream stopped sending mid-stream") from None
        except httpx.HTTPError as exc:
            outcome, error = "stream_broken", f"upstream stream ended early ({type(exc).__name__})"
            raise UpstreamUnreachable("the upstream connection broke mid-stream") from None
        except BaseException:
            # An app that hangs up once it has the answer's last event (before the upstream
            # closed the connection) received the whole answer.
            if not sse.ends_answer(tail):
                outcome, error = "cancelled", "the client went away; upstream request cancelled"
            raise
        finally:
            # The app may hang up the moment it has the last event, which cancels this
            # generator; the completion entry must still be written.
            with anyio.CancelScope(shield=True):
                await self.response.aclose()
                await self._finish(self.status, outcome, error)


class EgressGate:
    def __init__(
        self,
        settings: Settings,
        client: httpx.AsyncClient,
        ledger: Ledger,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self._threads = LedgerThreads()
        self.client = client
        self._forward = forwarder(client)
        self.ledger = ledger
        self.metrics = metrics or Metrics()
        # Completion entries are written after the answer is on its way to the app; the
        # write-ahead egress entry is the one that must precede the bytes.
        self.completions = CompletionWriter(ledger, self.metrics)

    async def drain(self) -> None:
        """Wait for completion entries still being written, end the ledger threads (at
        shutdown; an append after this starts them again)."""
        await self.completions.drain()
        await anyio.to_thread.run_sync(self._threads.close)

    def _auth_headers(self, ex: Exchange, own: bool) -> dict[str, str]:
        if not own:
            # Another API family than the app's: its credentials are not for this upstream.
            return self._configured_key()
        if forward_headers(ex.surface) is not None:
            # The surface forwards the app's own credentials (and API headers) as sent.
            return dict(ex.upstream_headers)
        if self.settings.upstream_api_key is not None:
            return self._configured_key()
        if ex.authorization:
            return {"authorization": ex.authorization}
        return {}

    def _configured_key(self) -> dict[str, str]:
        if self.settings.upstream_api_key is None:
            return {}
        return {"authorization": f"Bearer {self.settings.upstream_api_key.get_secret_value()}"}

    async def send(
        self,
        ex: Exchange,
        path: str,
        body: dict[str, Any] | bytes | None,
        *,
        stream: bool = False,
        method: str = "POST",
        note: dict[str, Any] | None = None,
        api: str | None = None,
    ) -> UpstreamReply:
        """Audit, then forward `body` (JSON, or the exact bytes) to `path` under the
        upstream of the exchange's wire API, or of the API family `api` when a
        collaboration call speaks another one than the app (logits' drafts)."""
        own_api = ex.surface.upstream if ex.surface is not None else "openai"
        own = api is None or api == own_api
        # Another family's call goes to its configured upstream, never the intercepted host.
        host = ex.destination_host if own else None
        base = self.settings.upstream_for(host, own_api if own else str(api))
        url = f"{base}/{path.lstrip('/')}"
        if isinstance(body, bytes):
            content, model = body, ex.model
        else:
            content = encode_json(body) if body is not None else b""
            model = body.get("model") if body else ex.model
        parts = urlsplit(url)
        record = egress_record(
            ex,
            host=host or parts.netloc,
            path=parts.path + (f"?{parts.query}" if parts.query else ""),
            method=method,
            model=model,
            body=content,
            note=note,
        )
        audit_id = await self._append(self.ledger.append_egress, record)
        ex.audit_ids.append(audit_id)
        ex.mark("audit_egress")

        headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
        }
        if own:  # the app's account, beta and name headers are for its own API only
            headers.update(ex.app_headers)
        headers.update(self._auth_headers(ex, own))
        request = self.client.build_request(method, url, content=content or None, headers=headers)
        return await self._forward_recorded(ex, request, audit_id, stream)

    async def _forward_recorded(
        self, ex: Exchange, request: httpx.Request, audit_id: str, stream: bool
    ) -> UpstreamReply:
        """Forward a request whose egress entry is durable; the completion entry follows
        however the call ends."""
        sent = time.perf_counter()
        where = request.url.netloc.decode()

        def complete(
            status: int | None, outcome: str, error: str | None, usage: Any = None
        ) -> None:
            record = completion_record(ex, audit_id, sent, status, outcome, error, usage)
            self.completions.put(record)

        async def finish(status: int | None, outcome: str, error: str | None) -> None:
            complete(status, outcome, error)

        try:
            response = await self._forward(request, stream)
        except httpx.TimeoutException:
            await finish(None, "timeout", "upstream did not answer within the timeout")
            raise UpstreamTimeout(f"the upstream {where} did not answer in time") from None
        except httpx.HTTPError as exc:
            await finish(
                None, "unreachable", f"could not reach the upstream ({type(exc).__name__})"
            )
            raise UpstreamUnreachable(
                f"cannot reach the upstream {where}; check --upstream and that it is running"
            ) from None
        except BaseException:
            await finish(None, "cancelled", "the client went away before the upstream answered")
            raise

        ex.mark("upstream_headers")
        reply = UpstreamReply(
            status=response.status_code,
            headers=response_headers(response.headers),
            audit_id=audit_id,
        )
        if stream and response.status_code < 400:
            reply.response = response
            reply._finish = finish
            return reply
        try:
            reply.content = await response.aread()
        except httpx.HTTPError as exc:
            await finish(response.status_code, "stream_broken", type(exc).__name__)
            raise UpstreamUnreachable("the upstream connection broke while answering") from None
        finally:
            await response.aclose()
        outcome = "ok" if response.status_code < 400 else "upstream_error"
        usage = _usage(reply.content) if response.status_code < 400 else None
        # Once the runner has restored the answer (the entry counts the placeholders it
        # withheld), not now.
        asyncio.get_running_loop().call_soon(complete, response.status_code, outcome, None, usage)
        return reply

    async def record_local(self, ex: Exchange, note: dict[str, Any] | None = None) -> str:
        """Record that an exchange was answered on the device and nothing left."""
        audit_id = await self._append(self.ledger.append_egress, local_record(ex, note))
        ex.audit_ids.append(audit_id)
        return audit_id

    async def record_egress(
        self, ex: Exchange, host: str, path: str, body: bytes, note: dict[str, Any]
    ) -> str:
        """The write-ahead entry of a call the local model runtime's client makes to an
        allowed non-loopback host: what leaves, to whom; the call waits for it."""
        record = egress_record(
            ex, host=host, path=path, method="POST", model=ex.model, body=body, note=note
        )
        audit_id = await self._append(self.ledger.append_egress, record)
        ex.audit_ids.append(audit_id)
        return audit_id

    async def record_refusal(self, ex: Exchange, error: GatewayError) -> str:
        """Record that the policy refused the exchange: who, which route, which types."""
        audit_id = await self._append(self.ledger.append_egress, refusal_record(ex, error))
        ex.audit_ids.append(audit_id)
        return audit_id

    async def _append(self, fn: Any, record: Any) -> str:
        start = time.perf_counter()
        try:
            audit_id = await self._threads.run(fn, record)
            self.metrics.append_latency(time.perf_counter() - start)
            return audit_id
        except Exception as exc:
            log.error("ledger append failed (%s); refusing the request", type(exc).__name__)
            raise LedgerUnavailable(
                "the audit ledger could not record this request, so nothing was sent; "
                "check that the data dir is writable and has free space"
            ) from None


def _usage(content: bytes) -> Any:
    try:
        return json.loads(content).get("usage")
    except (ValueError, AttributeError):
        return None
