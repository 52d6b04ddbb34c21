"""The gateway's side of the local model's worker process (`collab/worker.py`).

The worker holds the weights and runs llama.cpp; the gateway keeps only the vocabulary (for
tokenizing and chat templates). When the worker dies — a signal from llama.cpp, the OOM
killer — the request it served fails with a 503 naming the signal, the death is logged
with the signal and the likely cause, and the next request starts a new worker. The
gateway itself keeps serving.

Every call blocks and must be made by one caller at a time (the runtime's engine lock):
one conversation runs on the socket pair at a time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
from cogate.core.child_process import Supervised
from cogate.core.errors import GatewayError

from .runtime_check import ProbeResult
from .worker import receive, send

log = logging.getLogger("cogate.collab.worker")

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
POLL = 0.05  # seconds between checks of a cancel flag while waiting for the worker
CANCEL_GRACE = 60.0  # seconds a cancelled generation may take to stop


class WorkerFailed(GatewayError):
    """The local model's worker process died or could not load the model."""

    status = 503
    type = "cogate_error"
    code = "local_model_unavailable"


class ModelWorker(Supervised):
    """One worker process for one model file, started on first use and after a death."""

    def __init__(
        self, path: Path, context: int, threads: int | None, *, load_timeout: float = 120.0
    ) -> None:
        super().__init__()
        self.path, self.context, self.threads = path, context, threads
        self.load_timeout = load_timeout
        # A cancel is read between tokens; a worker still busy this long after one (stuck,
        # or in a prefill far longer than any) is ended so that it frees the model.
        self.cancel_grace = CANCEL_GRACE

    # Lifetime ---------------------------------------------------------------------------

    def ensure(self) -> Connection:
        """The connection to a live worker, starting one (and waiting for its load) if none."""
        if self._conn is not None and self._proc is not None and self._proc.poll() is None:
            return self._conn
        if self._proc is not None:  # died between requests: say so before replacing it
            self._died("idle")
        return self._start()

    def _start(self) -> Connection:
        conn = self._spawn(WORKER_SCRIPT, str(self.path), str(self.context), str(self.threads or 0))
        if not conn.poll(self.load_timeout):
            self.close()
            raise WorkerFailed(
                f"the local model's worker did not load {self.path.name} within "
                f"{self.load_timeout:.0f} s; see the gateway log"
            )
        reply = self._receive("loading the model")
        if reply[0] != "ready":
            self.close()
            raise WorkerFailed(
                f"the local model's worker could not load {self.path.name} ({reply[1]}); "
                "check that it is a GGUF file llama.cpp supports"
            )
        log.info("local model worker pid %s serving %s", self.pid, self.path.name)
        return conn

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker: close its socket (it leaves its loop), kill it if it lingers."""
        self._stop(timeout)

    def _hung(self, why: str) -> None:
        """End a worker that stopped answering; the socket's EOF then reports its death."""
        if self._proc is not None and self._proc.poll() is None:
            log.warning("local model worker (pid %d) ended: %s", self._proc.pid, why)
            self._proc.kill()

    def _died(self, doing: str) -> WorkerFailed:
        """Record and log the worker's death; returns the error for the request it served."""
        death = self._reap_dead(doing)
        how = death.how
        cause = (
            ProbeResult(death.code, "").explain()
            if how == "SIGILL"
            else "Its stack, if llama.cpp crashed, is above in this log."
        )
        log.error(
            "local model worker (pid %s) died with %s while %s: %s The gateway keeps serving; "
            "the next local-model request starts a new worker.",
            death.pid or "?",
            how,
            doing,
            cause,
        )
        return WorkerFailed(
            f"the local model's worker process died with {how} while {doing}; this request "
            "failed and the next one starts a new worker (see the gateway log)"
        )

    # Conversation -----------------------------------------------------------------------

    def _receive(self, doing: str) -> list[Any]:
        assert self._conn is not None
        try:
            return receive(self._conn)
        except (EOFError, OSError):
            raise self._died(doing) from None

    def _send(self, message: list[Any], doing: str) -> None:
        """Send on the current worker's connection, never a new one: a message that goes on
        a conversation (a cancel, a scoring step) means nothing to a worker started since."""
        if self._conn is None:
            raise WorkerFailed(
                f"the local model's worker process ended while {doing}; this request failed "
                "and the next one starts a new worker (see the gateway log)"
            )
        try:
            send(self._conn, message)
        except OSError:
            raise self._died(doing) from None

    def generate(
        self,
        prompt: Sequence[int],
        sampling: dict[str, Any],
        max_tokens: int,
        emit: Callable[[str], None],
        stopped: Callable[[], bool],
    ) -> tuple[str, int]:
        """`worker.decode` in the worker: pieces go to `emit`; returns (finish, tokens)."""
        self.ensure()
        self._send(["generate", list(prompt), sampling, max_tokens], "generating")
        assert self._conn is not None
        cancelled_at: float | None = None
        while True:
            if cancelled_at is None and stopped():
                self._send(["cancel"], "generating")
                cancelled_at = time.monotonic()
            elif cancelled_at is not None and time.monotonic() - cancelled_at > self.cancel_grace:
                self._hung("a cancelled generation did not stop")
            if not self._conn.poll(POLL):
                continue  # a dead worker makes the socket readable (EOF), so no wait is lost
            reply = self._receive("generating")
            if reply[0] == "text":
                if cancelled_at is None:
                    emit(reply[1])
            elif reply[0] == "end":
                return ("cancelled" if cancelled_at else reply[1]), reply[2]
            else:
                raise WorkerFailed(f"the local model failed while generating ({reply[1]})")

    def logits(self, op: str, argument: list[int] | int) -> np.ndarray:
        """Next-token logits after `["start", prompt]` or `["step", token]` (logits mode).
        Only a start may start a worker: a step continues the KV cache of the one that read
        the prompt, and fails if that one died."""
        if op == "start":
            self.ensure()
        self._send([op, argument], "scoring")
        reply = self._receive("scoring")
        if reply[0] != "logits":
            raise WorkerFailed(f"the local model failed while scoring ({reply[1]})")
        assert self._conn is not None
        try:
            frame = self._conn.recv_bytes()
        except (EOFError, OSError):
            raise self._died("scoring") from None
        return np.frombuffer(frame, dtype=np.float32).copy()
