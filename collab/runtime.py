"""The local model: one llama.cpp model per gateway, shared by the collaboration modes.

The API is small on purpose:

    model = LocalModel(settings)              # cheap; the weights load on first use
    await model.ready()                        # load now (in a worker thread)
    prompt = model.chat_prompt(messages)       # the GGUF's own chat template → token ids
    gen = model.generate(prompt, Sampling(max_tokens=200))   # takes a queue slot or
    async for text in gen: ...                               # raises Overloaded at once
    gen.prompt_tokens, gen.completion_tokens, gen.finish_reason   # set when it ends
    reply = await model.complete(prompt, Sampling(...))      # the whole text at once
    async with model.exclusive() as scorer: ...  # start/step → logits, for own decoding
    model.tokenize(text) / model.detokenize(tokens)

Isolation (`settings.local_isolation`): with "process" (the default) the weights live in a
supervised worker process (`collab/supervisor.py`) and the gateway keeps only the vocabulary,
so a llama.cpp crash fails the request it served with a 503, is logged with its signal, and
the next request starts a new worker. "thread" runs llama.cpp inside this process (offline
tools such as gate training; a crash there ends the process).

Every use holds one slot of a bounded queue (`settings.local_queue`: running plus waiting);
when all slots are taken the call raises `Overloaded` (503) immediately instead of waiting.
Generation is driven from a thread that checks a stop flag before every token, so closing
or cancelling the iterator (the client went away) stops it within one token.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from cogate.core.egress import Egress
from cogate.core.errors import BadRequest, GatewayError
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings

from .model_files import embedded_model_path
from .queue import BoundedQueue, QueueSlot
from .runtime_api import ChatPrompt, Completion, Prompt, Sampling
from .supervisor import ModelWorker
from .worker import decode, eval_prompt, eval_token

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
class Scorer:
    """The model as a step-by-step scorer, held through `LocalModel.exclusive()`: `start`
    reads a prompt, `step` one more token; both block and return the next-token logits.
    `vocab` is a `llama_cpp.Llama` for tokens and bytes (the whole model, or its vocabulary
    when the weights live in the worker process)."""

    vocab: Any
    start: Callable[[list[int]], np.ndarray]
    step: Callable[[int], np.ndarray]

    @classmethod
    def in_process(cls, llama: Any) -> Scorer:
        return cls(llama, partial(eval_prompt, llama), partial(eval_token, llama))


class LocalModel:
    """A llama.cpp model loaded once and shared; every use takes a slot of a bounded queue."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.local_enabled
        # A disabled runtime never looks for the embedded model (it may be what is broken).
        self.path: Path = (
            Path(settings.local_model)
            if settings.local_model
            else embedded_model_path()
            if self.enabled
            else Path("disabled.gguf")
        )
        self.threads = settings.local_threads
        self.context = settings.local_context
        self.queue_size = max(1, settings.local_queue)
        # "process": the weights live in a supervised worker; this process keeps the vocabulary.
        self.worker: ModelWorker | None = (
            ModelWorker(self.path, self.context, self.threads)
            if settings.local_isolation == "process"
            else None
        )
        self._llama: Any = None
        self._formatter: Any = None
        self._load_lock = threading.Lock()
        # Held while the model decodes: llama.cpp contexts are not safe to share between threads.
        self._engine = threading.Lock()
        self.queue = BoundedQueue(self.queue_size, "the local model")

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".gguf")

    @property
    def in_use(self) -> int:
        """Slots taken (running plus waiting)."""
        return self.queue.in_use

    # Loading -------------------------------------------------------------------------

    def load(self) -> Any:
        """Load the model here (blocking; once): its vocabulary only when a worker process
        holds the weights, else the whole model. Returns the raw llama_cpp.Llama."""
        with self._load_lock:
            if self._llama is not None:
                return self._llama
            if not self.enabled:
                raise LocalModelUnavailable(
                    "the local modes (sketch, logits, local) are disabled in this gateway: its "
                    "start-up probe of the local model runtime failed (see the gateway log and "
                    "/cogate/health) or COGATE_LOCAL_ENABLED is off; fix the runtime and restart"
                )
            if not self.path.is_file():
                raise LocalModelUnavailable(
                    f"no local model at {self.path}; set COGATE_LOCAL_MODEL to a GGUF file "
                    "or run `make install` for the embedded one"
                )
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            kwargs: dict[str, Any] = {"n_ctx": self.context, "verbose": False}
            if self.worker is not None:
                kwargs["vocab_only"] = True
            elif self.threads:
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
            log.info(
                "local model %s loaded (n_ctx=%d, %s)",
                self.path.name,
                self.context,
                "weights in a worker process" if self.worker else "in this process",
            )
            return llama

    async def ready(self) -> None:
        """Load the model now (and start its worker process), off the event loop."""
        if self._llama is None:
            await asyncio.to_thread(self.load)
        if self.worker is not None and self.worker.pid is None:
            await asyncio.to_thread(self._start_worker)

    def _start_worker(self) -> None:
        with self._engine:
            assert self.worker is not None
            self.worker.ensure()

    def status(self) -> dict[str, Any]:
        """What /cogate/health reports about the runtime while serving."""
        isolation = {"isolation": "process" if self.worker else "thread"}
        return isolation | ({"worker": self.worker.status()} if self.worker else {})

    async def aclose(self) -> None:
        with self._load_lock:
            llama, self._llama = self._llama, None
        # Wait for a running generation before freeing the model under it.
        await asyncio.to_thread(self._close, llama)

    def _close(self, llama: Any) -> None:
        with self._engine:
            if llama is not None:
                llama.close()
            if self.worker is not None:
                self.worker.close()

    # Text <-> tokens -----------------------------------------------------------------

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool = False) -> list[int]:
        return self.load().tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)

    def detokenize(self, tokens: Sequence[int], *, special: bool = False) -> str:
        raw = self.load().detokenize(list(tokens), special=special)
        return raw.decode("utf-8", errors="replace")

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def bound(self, ex: Exchange, gate: Egress) -> LocalModel:
        """The embedded model is on this device: nothing to record per exchange."""
        return self

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

    def check_capacity(self) -> None:
        """Raise Overloaded now if every queue slot is taken (a hint: takes no slot)."""
        self.queue.check_capacity()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[Scorer]:
        """Hold a queue slot and the model itself; yields it as a `Scorer`.

        Its calls block: run them in a worker thread (`asyncio.to_thread`) so the gateway
        keeps serving. The KV cache is yours until the block ends.
        """
        slot = self.queue.admit()
        try:
            await self.ready()
            while not self._engine.acquire(blocking=False):
                await asyncio.sleep(0.02)  # polled so that a cancelled waiter leaves at once
            try:
                worker = self.worker
                if worker is None:
                    yield Scorer.in_process(self._llama)
                else:
                    start = partial(worker.logits, "start")
                    yield Scorer(self._llama, start, partial(worker.logits, "step"))
            finally:
                self._engine.release()
        finally:
            slot.release()

    # Generation ----------------------------------------------------------------------

    def generate(self, prompt: Prompt, sampling: Sampling) -> Generation:
        """Start generating after `prompt` (from `chat_prompt`); raises Overloaded when full."""
        if isinstance(prompt, ChatPrompt):
            raise TypeError("the embedded model generates from token ids (chat_prompt)")
        llama = self.load()
        if len(prompt) >= self.context:
            raise BadRequest(
                f"the request needs {len(prompt)} tokens but the local model's context holds "
                f"{self.context}; shorten it or raise COGATE_LOCAL_CONTEXT",
                code="context_length_exceeded",
            )
        slot = self.queue.admit()
        max_tokens = max(1, min(sampling.max_tokens, self.room(prompt)))
        return Generation(self, llama, list(prompt), sampling, max_tokens, slot)

    async def complete(self, prompt: Prompt, sampling: Sampling) -> Completion:
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
    slot: QueueSlot
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
        if kind == "raise":
            raise value
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
        except GatewayError as exc:  # the worker died or failed: its own message
            final = ("raise", exc)
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
        def text(piece: str) -> None:
            emit("text", piece)

        worker, sampling = self.model.worker, asdict(self.sampling)
        if worker is not None:
            finish, self.completion_tokens = worker.generate(
                self.prompt, sampling, self.max_tokens, text, self._stop.is_set
            )
        else:
            finish, self.completion_tokens = decode(
                self.llama, self.prompt, sampling, self.max_tokens, text, self._stop.is_set
            )
        return finish
