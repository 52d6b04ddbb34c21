"""The user's own model runtime (Ollama, LM Studio, llama-server, vLLM) as the local model,
over its OpenAI-compatible API.

Built from `--local-url` once the address was checked and pinned (`collab/endpoint.py`).
Its capabilities are probed once (`ready`): chat (sketch and local need it), legacy
completions and top-k log-probabilities (logits needs them). A runtime that cannot be reached
gives 503 `local_model_unavailable` naming its URL; nothing falls through to the cloud.
Calls share a bounded queue (`COGATE_LOCAL_QUEUE`); closing a generation closes its HTTP
stream, which stops the runtime's generation. When the runtime is on an allowed non-loopback
host, `bound(ex, gate)` records every call as an egress ledger entry before it is made.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from cogate.core.egress import Egress
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.core.wire import encode_json

from .endpoint import Endpoint
from .queue import BoundedQueue, QueueSlot
from .runtime import LocalModelUnavailable
from .runtime_api import ChatPrompt, Completion, Prompt, Recorder, Sampling

log = logging.getLogger("cogate.collab.http_model")

PROBE_PROMPT = "The capital of France is"
PROBE_TOP_K = 5
CHARS_PER_TOKEN = 4  # the runtime's tokenizer is not here: an estimate for budgets only


@dataclass
class Capabilities:
    """What the runtime answered to the start-up probe."""

    reachable: bool = False
    models: list[str] = field(default_factory=list)
    chat: bool = False
    completions: bool = False
    top_k: int = 0  # top-k log-probabilities per token on /completions (0: none)
    error: str = ""

    @property
    def logits_reason(self) -> str:
        """Why logits cannot use this runtime ("" when it can)."""
        if not self.completions:
            return "the local runtime has no legacy /completions"
        if self.top_k < 2:
            return "the local runtime's /completions returns no top-k log-probabilities"
        return ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "reachable": self.reachable,
            "chat": self.chat,
            "completions": self.completions,
            "top_logprobs": self.top_k,
        }
        return out | ({"error": self.error} if self.error else {})


class _Shared:
    """State every view of one runtime shares: the client, the queue, what the probe found."""

    def __init__(self, endpoint: Endpoint, settings: Settings) -> None:
        self.endpoint = endpoint
        timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
        self.timeout = timeout
        self.client = endpoint.client(timeout)
        self.queue = BoundedQueue(settings.local_queue, "the local model runtime")
        self.caps: Capabilities | None = None
        self.probe_lock = asyncio.Lock()
        self.model = settings.local_model_name or ""


class HttpModel:
    """The local model served by the user's runtime; see the module docstring."""

    def __init__(self, endpoint: Endpoint, settings: Settings) -> None:
        self._shared = _Shared(endpoint, settings)
        self.context = settings.local_context
        self.recorder: Recorder | None = None

    # -- what the gateway reports -------------------------------------------------------

    @property
    def endpoint(self) -> Endpoint:
        return self._shared.endpoint

    @property
    def name(self) -> str:
        return self._shared.model or "local-runtime"

    @property
    def in_use(self) -> int:
        return self._shared.queue.in_use

    @property
    def capabilities(self) -> Capabilities | None:
        return self._shared.caps

    def status(self) -> dict[str, Any]:
        caps = self._shared.caps
        return {
            "runtime": self.endpoint.url,
            "model": self.name,
            "remote": self.endpoint.remote,
            "capabilities": caps.as_dict() if caps else {"probed": False},
        }

    async def aclose(self) -> None:
        await self._shared.client.aclose()

    def bound(self, ex: Exchange, gate: Egress) -> HttpModel:
        """This runtime for one exchange: on a non-loopback host each call is recorded."""
        if not self.endpoint.remote:
            return self
        view = HttpModel.__new__(HttpModel)
        view._shared, view.context = self._shared, self.context
        host, note = self.endpoint.netloc, {"purpose": "local runtime", "runtime": "remote"}

        async def record(path: str, body: bytes) -> None:
            await gate.record_egress(ex, host, self.endpoint.base_path + "/" + path, body, note)

        view.recorder = record
        return view

    # -- probing ------------------------------------------------------------------------

    def unavailable(self, why: str) -> LocalModelUnavailable:
        return LocalModelUnavailable(
            f"the local model runtime at {self.endpoint.url} is unavailable ({why}); start it "
            "or fix --local-url. Nothing was sent to the cloud instead"
        )

    async def ready(self) -> None:
        """Probe the runtime once; raise 503 naming the URL while it cannot be reached."""
        shared = self._shared
        if shared.caps is None or not shared.caps.reachable:
            async with shared.probe_lock:
                if shared.caps is None or not shared.caps.reachable:
                    shared.caps = await self.probe()
        if not shared.caps.reachable:
            raise self.unavailable(shared.caps.error)
        if not shared.caps.chat:
            raise self.unavailable("it does not answer /chat/completions")

    async def ready_quietly(self) -> None:
        """Probe at start-up; a runtime that is down is logged, not fatal."""
        async with self._shared.probe_lock:
            self._shared.caps = await self.probe()

    async def probe(self) -> Capabilities:
        """What the runtime can do: its models, chat, completions with top-k logprobs."""
        caps = Capabilities()
        try:
            listing = await self._get("models")
            caps.models = [str(m.get("id")) for m in listing.get("data", []) if m.get("id")]
            caps.reachable = True
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            caps.error = f"GET /models failed: {type(exc).__name__}"
            log.warning("local runtime %s: %s", self.endpoint.url, caps.error)
            return caps
        if not self._shared.model and caps.models:
            self._shared.model = caps.models[0]
        chat = {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1}
        caps.chat = await self._probe_call("chat/completions", chat) is not None
        legacy = {"prompt": PROBE_PROMPT, "max_tokens": 1, "temperature": 0}
        reply = await self._probe_call("completions", {**legacy, "logprobs": PROBE_TOP_K})
        caps.completions = reply is not None
        if reply is not None:
            steps = parse_logprobs(reply)
            caps.top_k = min(PROBE_TOP_K, len(steps[0].top)) if steps else 0
        log.info("local runtime %s (%s): %s", self.endpoint.url, self.name, caps.as_dict())
        return caps

    async def _probe_call(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        # The probe's bodies are fixed texts with nothing private: sent without a ledger entry.
        try:
            response = await self._shared.client.post(
                self.endpoint.request_url(path),
                content=encode_json({"model": self.name, **body}),
                headers=self._headers(),
                extensions=self.endpoint.extensions(),
            )
            if response.status_code >= 400:
                return None
            data = response.json()
            return data if isinstance(data, dict) and data.get("choices") else None
        except (httpx.HTTPError, ValueError):
            return None

    async def _get(self, path: str) -> Any:
        response = await self._shared.client.get(
            self.endpoint.request_url(path),
            headers=self._headers(),
            extensions=self.endpoint.extensions(),
        )
        response.raise_for_status()
        return response.json()

    def _headers(self) -> dict[str, str]:
        return {**self.endpoint.headers(), "content-type": "application/json"}

    # -- prompts and the queue ----------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // CHARS_PER_TOKEN)

    def chat_prompt(self, messages: list[dict[str, str]]) -> ChatPrompt:
        tokens = sum(self.count_tokens(m["content"]) + 4 for m in messages)
        return ChatPrompt(tuple(dict(m) for m in messages), tokens)

    def check_capacity(self) -> None:
        self._shared.queue.check_capacity()

    def admit(self) -> QueueSlot:
        """Take a queue slot (raise Overloaded when none is free)."""
        return self._shared.queue.admit()

    # -- generation ---------------------------------------------------------------------

    def generate(self, prompt: Prompt, sampling: Sampling) -> HttpGeneration:
        if not isinstance(prompt, ChatPrompt):
            raise TypeError("a runtime over HTTP generates from chat messages (chat_prompt)")
        body: dict[str, Any] = {
            "model": self.name,
            "messages": list(prompt.messages),
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "stream": True,
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        return HttpGeneration(self, encode_json(body), len(prompt), self.admit())

    async def complete(self, prompt: Prompt, sampling: Sampling) -> Completion:
        gen = self.generate(prompt, sampling)
        try:
            text = "".join([piece async for piece in gen])
        finally:
            await gen.aclose()
        return Completion(
            text, gen.prompt_tokens, gen.completion_tokens, gen.finish_reason or "stop"
        )

    async def post(self, path: str, body: bytes, *, stream: bool = False) -> httpx.Response:
        """Record (remote runtime) then send one call; 503 naming the URL when it fails."""
        if self.recorder is not None:
            await self.recorder(path, body)
        client = self._shared.client
        request = client.build_request(
            "POST",
            self.endpoint.request_url(path),
            content=body,
            headers=self._headers(),
            extensions=self.endpoint.extensions(),
        )
        try:
            response = await client.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise self.unavailable(f"{type(exc).__name__} on /{path}") from None
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise self.unavailable(f"HTTP {response.status_code} on /{path}")
        return response


@dataclass
class HttpGeneration:
    """One streamed chat completion from the runtime; closing it closes the HTTP stream,
    which is how a client that went away stops the runtime's generation."""

    model: HttpModel
    body: bytes
    prompt_tokens: int
    slot: QueueSlot
    completion_tokens: int = 0
    finish_reason: str | None = None
    _pieces: AsyncGenerator[str, None] | None = None

    def __aiter__(self) -> HttpGeneration:
        return self

    async def __anext__(self) -> str:
        if self._pieces is None:
            self._pieces = self._stream()
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        pieces, self._pieces = self._pieces, None
        if pieces is not None:
            await pieces.aclose()
        self.slot.release()

    async def _stream(self) -> AsyncGenerator[str, None]:
        try:
            response = await self.model.post("chat/completions", self.body, stream=True)
            try:
                async for piece in self._events(response):
                    yield piece
            except httpx.HTTPError as exc:
                raise self.model.unavailable(
                    f"it stopped mid-answer ({type(exc).__name__})"
                ) from None
            finally:
                await response.aclose()
            if self.finish_reason is None:
                raise self.model.unavailable("its stream ended without a finish reason")
        finally:
            self.slot.release()

    async def _events(self, response: httpx.Response) -> AsyncIterator[str]:
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                self.finish_reason = self.finish_reason or "stop"
                return
            try:
                event = json.loads(data)
            except ValueError:
                continue
            if isinstance(event.get("error"), dict | str):
                raise self.model.unavailable("it answered an error mid-stream")
            usage = event.get("usage") or {}
            if usage.get("completion_tokens"):
                self.completion_tokens = int(usage["completion_tokens"])
            for choice in event.get("choices") or []:
                text = (choice.get("delta") or {}).get("content") or ""
                if choice.get("finish_reason"):
                    self.finish_reason = str(choice["finish_reason"])
                if text:
                    if not usage:
                        self.completion_tokens += 1  # about a token per event
                    yield text


@dataclass(frozen=True)
class LogprobStep:
    """One generated token of a /completions answer with its top-k alternatives."""

    token: bytes
    logprob: float | None
    top: dict[bytes, float]


def _bytes_of(item: dict[str, Any]) -> bytes:
    raw = item.get("bytes")
    if isinstance(raw, list) and all(isinstance(b, int) for b in raw):
        return bytes(raw)
    return str(item.get("token", "")).encode("utf-8")


def parse_logprobs(data: dict[str, Any]) -> list[LogprobStep]:
    """The steps of a /completions answer with logprobs, in either shape runtimes use: the
    legacy one (vLLM, llama_cpp.server, OpenAI) or llama-server's per-token `content` list."""
    logprobs = (data.get("choices") or [{}])[0].get("logprobs") or {}
    content = logprobs.get("content")
    if isinstance(content, list):
        return [
            LogprobStep(
                _bytes_of(item),
                item.get("logprob"),
                {_bytes_of(alt): float(alt["logprob"]) for alt in item.get("top_logprobs") or []},
            )
            for item in content
        ]
    tokens = logprobs.get("tokens") or []
    chosen = logprobs.get("token_logprobs") or []
    tops = logprobs.get("top_logprobs") or []
    steps = []
    for i, token in enumerate(tokens):
        top = tops[i] if i < len(tops) and isinstance(tops[i], dict) else {}
        steps.append(
            LogprobStep(
                str(token).encode("utf-8"),
                chosen[i] if i < len(chosen) else None,
                {str(k).encode("utf-8"): float(v) for k, v in top.items() if v is not None},
            )
        )
    return steps
