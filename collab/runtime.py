"""The local model: one llama.cpp model per gateway, shared by the collaboration modes.

The API is small on purpose:

    model = LocalModel(settings)              # cheap; the weights load on first use
    await model.ready()                        # load now (in a worker thread)
    prompt = model.chat_prompt(messages)       # the GGUF's own chat template → token ids
    gen = model.generate(prompt, Sampling(max_tokens=200))   # takes a queue slot or
    async for text in gen: ...                               # raises Overloaded at once
    gen.prompt_tokens, gen.completion_tokens, gen.finish_reason   # set when it ends
    reply = await model.complete(prompt, Sampling(...))      # the whole text at once
    async with model.exclusive() as llama: ...  # the raw llama_cpp.Llama, for own decoding
    model.tokenize(text) / model.detokenize(tokens)

Every use holds one slot of a bounded queue (`settings.local_queue`: running plus waiting);
when all slots are taken the call raises `Overloaded` (503) immediately instead of waiting.
Generation runs in a worker thread that checks a stop flag before every token, so closing
or cancelling the iterator (the client went away) stops it within one token.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogate.core.errors import BadRequest, GatewayError, Overloaded
from cogate.core.settings import Settings

from .model_files import embedded_model_path

log = logging.getLogger("cogate.collab.runtime")

# A plain ChatML template for the rare GGUF that carries none.
FALLBACK_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class LocalModelUnavailable(GatewayError):
    """The local model file is missing or failed to load."""

    status = 503
    type = "cogate_error"
    code = "local_model_unavailable"


@dataclass(frozen=True)
class Sampling:
    """Decoding parameters of one generation (OpenAI names where there is one)."""

    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length"


@dataclass
class _Slot:
    """One place in the bounded queue; releasing twice is harmless."""

    model: LocalModel
    released: bool = False

    def release(self) -> None:
        with self.model._count_lock:
            if not self.released:
                self.released = True
                self.model._in_use -= 1


class LocalModel:
    """A llama.cpp model loaded once and shared; every use takes a slot of a bounded queue."""

    def __init__(self, settings: Settings) -> None:
        self.path: Path = (
            Path(settings.local_model) if settings.local_model else embedded_model_path()
        )
        self.threads = settings.local_threads
        self.context = settings.local_context
        self.queue_size = max(1, settings.local_queue)
        self._llama: Any = None
        self._formatter: Any = None
        self._load_lock = threading.Lock()
        # Held while the model decodes: llama.cpp contexts are not safe to share between threads.
        self._engine = threading.Lock()
        self._count_lock = threading.Lock()
        self._in_use = 0

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".gguf")

    @property
    def in_use(self) -> int:
        """Slots taken (running plus waiting)."""
        return self._in_use

    # Loading -------------------------------------------------------------------------

    def load(self) -> Any:
        """Load the weights (blocking; once). Returns the raw llama_cpp.Llama."""
        with self._load_lock:
            if self._llama is not None:
                return self._llama
            if not self.path.is_file():
                raise LocalModelUnavailable(
                    f"no local model at {self.path}; set COGATE_LOCAL_MODEL to a GGUF file "
                    "or run `make install` for the embedded one"
                )
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            kwargs: dict[str, Any] = {"n_ctx": self.context, "verbose": False}
            if self.threads:
                kwargs["n_threads"] = self.threads
                kwargs["n_threads_batch"] = self.threads
            try:
                llama = Llama(model_path=str(self.path), **kwargs)
            except Exception as exc:
                raise LocalModelUnavailable(
                    f"the local model {self.path.name} failed to load ({type(exc).__name__}); "
                    "check that it is a GGUF file llama.cpp supports"
                ) from None
            # The GGUF's own template, as llama-cpp-python builds it when no chat_format is
            # forced; built here too so that a built-in format it might guess never wins.
            template = llama.metadata.get("tokenizer.chat_template") or FALLBACK_TEMPLATE
            if template is FALLBACK_TEMPLATE:
                log.warning("%s carries no chat template; using ChatML", self.path.name)
            eos, bos = llama.token_eos(), llama.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
                stop_token_ids=[eos],
            )
            self._llama = llama
            log.info("local model %s loaded (n_ctx=%d)", self.path.name, self.context)
            return llama

    async def ready(self) -> None:
        """Load the weights in a worker thread if they are not loaded yet."""
        if self._llama is None:
            await asyncio.to_thread(self.load)

    async def aclose(self) -> None:
        with self._load_lock:
            llama, self._llama = self._llama, None
        if llama is not None:
            # Wait for a running generation before freeing the context under it.
            await asyncio.to_thread(self._close, llama)

    def _close(self, llama: Any) -> None:
        with self._engine:
            llama.close()

    # Text <-> tokens -----------------------------------------------------------------

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool = False) -> list[int]:
        return self.load().tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)

    def detokenize(self, tokens: Sequence[int], *, special: bool = False) -> str:
        raw = self.load().detokenize(list(tokens), special=special)
        return raw.decode("utf-8", errors="replace")

    def chat_prompt(self, messages: list[dict[str, str]]) -> list[int]:
        """Token ids of `messages` through the GGUF's chat template, ready to generate."""
        llama = self.load()
        rendered = self._formatter(messages=messages)
        return llama.tokenize(
            rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
        )

    def room(self, prompt: Sequence[int]) -> int:
        """How many tokens can still be generated after `prompt`."""
        return self.context - len(prompt)

    # Queue ---------------------------------------------------------------------------

    def _busy(self) -> Overloaded:
        return Overloaded(
            f"the local model is busy ({self._in_use} requests running or queued, the limit "
            f"is {self.queue_size}); retry shortly or raise COGATE_LOCAL_QUEUE",
            headers={"retry-after": "2"},
        )

    def check_capacity(self) -> None:
        """Raise Overloaded now if every queue slot is taken (a hint: takes no slot)."""
        if self._in_use >= self.queue_size:
            raise self._busy()

    def _admit(self) -> _Slot:
        with self._count_lock:
            if self._in_use >= self.queue_size:
                raise self._busy()
            self._in_use += 1
        return _Slot(self)

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[Any]:
        """Hold a queue slot and the model itself; yields the raw `llama_cpp.Llama`.

        Calls on it block: run them in a worker thread (`asyncio.to_thread`) so the gateway
        keeps serving. The KV cache is yours until the block ends; call `llama.reset()`.
        """
        slot = self._admit()
        try:
            await self.ready()
            while not self._engine.acquire(blocking=False):
                await asyncio.sleep(0.02)  # polled so that a cancelled waiter leaves at once
            try:
                yield self._llama
            finally:
                self._engine.release()
        finally:
            slot.release()

    # Generation ----------------------------------------------------------------------

    def generate(self, prompt: Sequence[int], sampling: Sampling) -> Generation:
        """Start generating after `prompt` (from `chat_prompt`); raises Overloaded when full."""
        llama = self.load()
        if len(prompt) >= self.context:
            raise BadRequest(
                f"the request needs {len(prompt)} tokens but the local model's context holds "
                f"{self.context}; shorten it or raise COGATE_LOCAL_CONTEXT",
                code="context_length_exceeded",
            )
        slot = self._admit()
        max_tokens = max(1, min(sampling.max_tokens, self.room(prompt)))
        return Generation(self, llama, list(prompt), sampling, max_tokens, slot)

    async def complete(self, prompt: Sequence[int], sampling: Sampling) -> Completion:
        gen = self.generate(prompt, sampling)
        try:
            text = "".join([piece async for piece in gen])
        finally:
            await gen.aclose()
        return Completion(
            text, gen.prompt_tokens, gen.completion_tokens, gen.finish_reason or "stop"
        )


@dataclass
class Generation:
    """One generation: iterate for text pieces; usage and finish reason are set at the end."""

    model: LocalModel
    llama: Any
    prompt: list[int]
    sampling: Sampling
    max_tokens: int
    slot: _Slot
    completion_tokens: int = 0
    finish_reason: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _queue: asyncio.Queue | None = None
    _thread: threading.Thread | None = None
    _done: bool = False

    def __post_init__(self) -> None:
        # A generation dropped without being run or closed must not keep its slot.
        weakref.finalize(self, self.slot.release)

    @property
    def prompt_tokens(self) -> int:
        return len(self.prompt)

    def __aiter__(self) -> Generation:
        return self

    async def __anext__(self) -> str:
        if self._done:
            raise StopAsyncIteration
        if self._thread is None:
            self._start()
        assert self._queue is not None
        try:
            kind, value = await self._queue.get()
        except BaseException:
            self._stop.set()  # cancelled while waiting: the client went away
            raise
        if kind == "text":
            return value
        self._done = True
        if kind == "error":
            raise LocalModelUnavailable(
                f"the local model failed while generating ({value}); see the gateway log"
            )
        self.finish_reason = value
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop generating (within one token) and give the slot back once the thread ends."""
        self._stop.set()
        self._done = True
        if self._thread is None:
            self.slot.release()

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        self._queue = queue

        def emit(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone: nobody is listening any more
                self._stop.set()

        self._thread = threading.Thread(
            target=self._run, args=(emit,), name="cogate-local-model", daemon=True
        )
        self._thread.start()

    def _run(self, emit: Any) -> None:
        engine = self.model._engine
        acquired = False
        final: tuple[str, Any] | None = None
        try:
            while not (acquired := engine.acquire(timeout=0.05)):
                if self._stop.is_set():
                    return
            if self.model._llama is not self.llama:
                final = ("error", "the model was closed")
            else:
                final = ("end", self._decode(emit))
        except Exception as exc:
            log.error("local generation failed with %s", type(exc).__name__)
            final = ("error", type(exc).__name__)
        finally:
            if acquired:
                engine.release()
            # Free the slot before saying so: whoever sees the end may start the next one.
            self.slot.release()
            if final is not None:
                emit(*final)

    def _decode(self, emit: Any) -> str:
        import llama_cpp

        llama, s = self.llama, self.sampling
        if s.seed is not None:
            llama.set_seed(s.seed)
        vocab = llama._model.vocab
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = _StopMatcher(s.stop)
        for token in llama.generate(
            self.prompt,
            temp=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k,
            repeat_penalty=s.repeat_penalty,
            reset=True,
        ):
            if self._stop.is_set():
                return "cancelled"
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                break
            self.completion_tokens += 1
            text, hit = stops.feed(decoder.decode(llama.detokenize([token])))
            if text:
                emit("text", text)
            if hit:
                return "stop"
            if self.completion_tokens >= self.max_tokens:
                tail = stops.flush() + decoder.decode(b"", final=True)
                if tail:
                    emit("text", tail)
                return "length"
        tail = stops.flush() + decoder.decode(b"", final=True)
        if tail:
            emit("text", tail)
        return "stop"


class _StopMatcher:
    """Holds back text that may be the start of a stop string; cuts at the first match."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [stop for stop in stops if stop]
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        if not self.stops:
            return text, False
        self.pending += text
        cuts = [self.pending.find(stop) for stop in self.stops]
        found = [cut for cut in cuts if cut >= 0]
        if found:
            out = self.pending[: min(found)]
            self.pending = ""
            return out, True
        keep = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(self.pending)), 0, -1):
                if self.pending.endswith(stop[:size]):
                    keep = max(keep, size)
                    break
        out = self.pending[: len(self.pending) - keep]
        self.pending = self.pending[len(self.pending) - keep :]
        return out, False

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out
