"""The wire-API seam: one module per API the gateway serves implements `Surface`.

A surface declares its routes, rewrites its request bodies through the privacy engine's
`Scanner`, restores its JSON answers and stream events, and renders a local or collaborative
answer in its own shape. The pipeline, the privacy engine and the ledger never learn which
surface a request came from.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .reply import Reply


@dataclass(frozen=True)
class Operation:
    """One route of a surface.

    The upstream path is the request path with the surface's `strip_prefix` removed,
    appended to the surface's upstream base URL (query string kept).
    """

    method: str  # "POST" | "GET" | "DELETE"
    path: str  # gateway route, FastAPI syntax: "/v1/responses/{response_id}"
    name: str  # operation name, e.g. "responses.create", "messages.create"
    scanned: bool = True  # False: no body to scan (GET/DELETE), forwarded as is


class Scanner(Protocol):
    """The privacy engine's per-request redactor."""

    def text(self, value: str, path: str, context: str = "", *, words: bool = False) -> str:
        """`value` with private values replaced; `words`: also read `_`/`-` as spaces."""
        ...

    def texts(self, values: list[str], paths: list[str]) -> list[str]:
        """The text parts of one message, scanned together (a value may span two parts)."""
        ...

    def unscannable(self, path: str, kind: str) -> bool:
        """True keep, False drop; raises to refuse the request."""
        ...


class TextRestore(Protocol):
    """Gives the app its own values back in one text."""

    def restore(self, text: str, *, json_escape: bool = False) -> str: ...


def chained(text: TextRestore) -> TextRestore:
    """A restorer for the texts of one answer in order (its `chain()`, if it has one): each
    text is read as the continuation of the one before, since an app may join them."""
    chain = getattr(text, "chain", None)
    return chain() if chain is not None else text


class Held(Protocol):
    """Per-key hold-back restoration of streamed text. Keys of one `lane` (default: the key
    itself) continue each other's text: the parts and blocks of one answer."""

    def release(
        self,
        key: tuple[Any, ...],
        piece: str,
        *,
        final: bool,
        json_escape: bool,
        lane: tuple[Any, ...] | None = None,
    ) -> str: ...

    def holds(self, key: tuple[Any, ...]) -> bool: ...

    def snapshot(
        self,
        key: tuple[Any, ...],
        whole: str,
        *,
        json_escape: bool,
        lane: tuple[Any, ...] | None = None,
    ) -> str:
        """The whole text of `key` (a `.done` snapshot) restored as its pieces were."""
        ...


@dataclass
class SSEEvent:
    name: str | None  # the `event:` field (Responses and Messages name every event)
    data: Any  # parsed JSON object; core.sse.DONE for "[DONE]"; raw bytes if not JSON


class EventRestorer(Protocol):
    def feed(self, event: SSEEvent) -> list[SSEEvent]: ...

    def finish(self) -> list[SSEEvent]:
        """Flush held text when the stream ends."""
        ...


@dataclass
class Turn:
    role: str  # "system" | "user" | "assistant" | "tool"
    text: str


class Answer(Protocol):
    """A local or collaborative answer being generated."""

    # Read-only for the renderer: plain attributes or properties both satisfy it.
    @property
    def finish_reason(self) -> str | None: ...

    @property
    def prompt_tokens(self) -> int: ...

    @property
    def completion_tokens(self) -> int: ...

    def __aiter__(self) -> AsyncIterator[str]: ...

    async def aclose(self) -> None: ...


class Surface(Protocol):
    name: str  # "openai.chat", "openai.responses", "anthropic.messages"
    upstream: str  # which configured base URL: "openai" | "anthropic"
    strip_prefix: str  # "/v1" for OpenAI (base URL ends in /v1); "" for Anthropic
    operations: Sequence[Operation]

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        """The outbound request body: every text-bearing path through `scanner`; paths that
        must be relayed byte for byte (signed/encrypted blocks) copied from `raw` unchanged;
        unknown fields refused (BadRequest naming the field) unless validated non-text."""
        ...

    def stream_requested(self, op: str, body: dict[str, Any]) -> bool:
        """Asked with the query parameters for an operation without a body (GET)."""
        ...

    def conversation_seed(self, op: str, body: dict[str, Any]) -> Any:
        """JSON-able opening of the conversation (system text + first user turn), used to key
        the pseudonym vault when the app sends no conversation id; None: no conversation."""
        ...

    def restore_json(self, op: str, body: Any, text: TextRestore) -> Any: ...

    def stream_restorer(self, op: str, held: Held, text: TextRestore) -> EventRestorer: ...

    def turns(self, op: str, body: dict[str, Any]) -> list[Turn]:
        """The conversation as plain turns, for sketch/logits/local (system text first)."""
        ...

    async def render(self, op: str, body: dict[str, Any], answer: Answer, model: str) -> Reply:
        """A local/collaborative answer in this API's shape: whole JSON (read from `answer`
        here, hence async), or a faithful event stream when `stream_requested`."""
        ...


class Stateful(Protocol):
    """Optional members of a surface whose upstream keeps state by id (stored responses,
    conversations) or whose requests may carry credentials for third parties. A surface
    without them gets the defaults of the functions below."""

    def continues(self, op: str, body: dict[str, Any], params: Mapping[str, str]) -> list[str]:
        """Ids of upstream-stored state this request continues (`params`: the path's
        parameters), most specific first; the pseudonym vault follows them."""
        ...

    def stored_ids(self, op: str, answer: Any) -> list[str]:
        """Ids under which the upstream keeps this answer (a JSON answer or one stream
        event's data); later requests that continue them reuse this request's vault."""
        ...

    def signatures(self, op: str, answer: Any) -> list[str]:
        """Signatures of the signed blocks in an answer or one stream event's data; the
        scanner of a later request answers `relayed_before(signature)` for them."""
        ...

    def credentials(self, op: str, body: dict[str, Any]) -> list[str]:
        """The third parties' credentials the body carries (an MCP server's token and
        headers): forwarded as they are, never scanned, masked in the ledger's copy of the
        body, which is still stored."""
        ...

    def stream_error(self, op: str, error: dict[str, Any]) -> SSEEvent:
        """The event that ends a stream which broke after it began (`error`: the
        OpenAI-shaped error body), in the shape this API's SDKs raise."""
        ...


def continues(
    surface: Surface | None, op: str, body: dict[str, Any], params: Mapping[str, str]
) -> list[str]:
    method = getattr(surface, "continues", None)
    return list(method(op, body, params)) if method is not None else []


def stored_ids(surface: Surface | None, op: str, answer: Any) -> list[str]:
    method = getattr(surface, "stored_ids", None)
    return list(method(op, answer)) if method is not None else []


def signatures(surface: Surface | None, op: str, answer: Any) -> list[str]:
    """Signatures of the signed blocks in an answer or one stream event's data (a surface's
    optional `signatures`): blocks the app may send back, to be relayed unchanged then."""
    method = getattr(surface, "signatures", None)
    return list(method(op, answer)) if method is not None else []


def signs_blocks(surface: Surface | None) -> bool:
    return getattr(surface, "signatures", None) is not None


def keeps_state(surface: Surface | None) -> bool:
    """Whether the surface's upstream stores answers under ids (see `Stateful`)."""
    return getattr(surface, "stored_ids", None) is not None


def credentials(surface: Surface | None, op: str, body: dict[str, Any]) -> list[str]:
    method = getattr(surface, "credentials", None)
    return list(method(op, body)) if method is not None else []


def holds_credentials(surface: Surface | None, op: str, body: dict[str, Any]) -> bool:
    return bool(credentials(surface, op, body))


def stream_error(surface: Surface | None, op: str, error: dict[str, Any]) -> SSEEvent:
    method = getattr(surface, "stream_error", None)
    return method(op, error) if method is not None else SSEEvent(None, error)


# Optional members. A surface declares one only when it needs it; the kernel reads them
# through the functions below, which supply the default, so every other surface (and any
# written before these existed) stays as it is.


@runtime_checkable
class ForwardsHeaders(Protocol):
    # Request headers sent upstream exactly as the app sent them (its own credentials and API
    # version headers). A surface that names them carries the app's credentials itself, so
    # the configured upstream key is not added to its requests.
    forward_headers: Sequence[str]


@runtime_checkable
class RestoresBytes(Protocol):
    def restore_bytes(self, op: str, content: bytes, text: TextRestore) -> bytes:
        """A whole answer or error body with the app's values back, for answers holding
        blocks that must keep their exact bytes; raises ValueError when it is not JSON."""
        ...


def forward_headers(surface: Surface | None) -> Sequence[str] | None:
    """The headers a surface forwards as sent, or None: it relies on the upstream key."""
    # The attribute itself, not isinstance(): a runtime Protocol check costs tens of
    # microseconds, and this is asked twice for every request.
    return getattr(surface, "forward_headers", None)


def restore_bytes(surface: Surface, op: str, content: bytes, text: TextRestore) -> bytes:
    """`surface.restore_bytes`, else `restore_json` on the parsed body, re-encoded."""
    if isinstance(surface, RestoresBytes):
        return surface.restore_bytes(op, content, text)
    body = json.loads(content)
    restored = surface.restore_json(op, body, text)
    return content if restored == body else json.dumps(restored, ensure_ascii=False).encode()


@runtime_checkable
class AsksCloud(Protocol):
    def cloud_request(
        self, op: str, model: str | None, system: str, prompt: str, max_tokens: int
    ) -> tuple[str, dict[str, Any]]:
        """(upstream route, body) of one plain question to this API's own upstream, which
        a collaboration mode asks (sketch's outline)."""
        ...

    def cloud_text(self, op: str, answer: Any) -> str:
        """The text of the upstream's JSON answer to `cloud_request`; raises KeyError,
        IndexError, TypeError or ValueError when it holds none."""
        ...


def cloud_request(
    surface: Surface, op: str, model: str | None, system: str, prompt: str, max_tokens: int
) -> tuple[str, dict[str, Any]]:
    """`surface.cloud_request`, else a Chat Completions request under the surface's base."""
    if isinstance(surface, AsksCloud):
        return surface.cloud_request(op, model, system, prompt, max_tokens)
    body: dict[str, Any] = {"model": model} if model else {}
    body["messages"] = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
    body.update(max_tokens=max_tokens, temperature=0.3, stream=False)
    return "chat/completions", body


def cloud_text(surface: Surface, op: str, answer: Any) -> str:
    """`surface.cloud_text`, else the first choice's message of a chat completion."""
    if isinstance(surface, AsksCloud):
        return surface.cloud_text(op, answer)
    text = answer["choices"][0]["message"]["content"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the answer holds no text")
    return text
