"""The gateway's side of spaCy NER's worker process (`policies/detect/ner_worker.py`).

A text is sent before the pattern recognizers start and its entities are read when the
spaCy recognizer needs them, so the two run at once on two cores. When the worker dies,
the death is logged and the text goes to a new worker; if that one dies too (a text that
crashes spaCy), the request is refused (503, nothing forwarded: detection did not finish).

Calls come from one analysis at a time (the detector's lock); a lock here as well keeps
one text on the socket pair at a time whatever the caller.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from cogate.core.child_process import Supervised
from cogate.core.errors import GatewayError

log = logging.getLogger("cogate.policies.ner")

WORKER_SCRIPT = Path(__file__).with_name("ner_worker.py")
Entities = list[tuple[int, int, str]]


class NerUnavailable(GatewayError):
    """The NER worker died or could not load the spaCy pipeline."""

    status = 503
    type = "cogate_error"
    code = "detection_unavailable"


class Pending:
    """One text's entities, on their way from the worker."""

    def __init__(self, owner: NerProcess, text: bytes) -> None:
        self._owner, self.text = owner, text
        self._conn: Connection | None = None
        self.sent = 0  # to how many workers
        self._entities: Entities | None = None

    def result(self) -> Entities:
        """The entities (waits for them); NerUnavailable if the worker died meanwhile."""
        if self._entities is None:
            self._entities = self._owner._collect(self)
        return self._entities


class NerProcess(Supervised):
    """One worker process for one spaCy pipeline, started at once and after a death."""

    def __init__(
        self,
        package: str,
        *,
        french_package: str | None = None,
        load_timeout: float = 120.0,
        retries: int = 1,
    ) -> None:
        super().__init__()
        self.package = package
        self.french_package = french_package  # loaded by the worker at the first French text
        self.french_texts = 0  # texts sent with French sentences (none: never loaded)
        self.load_timeout = load_timeout
        self.retries = retries  # new workers a text is sent to after its worker died
        self._lock = threading.Lock()
        self._ready = False
        self._waiting: Pending | None = None  # sent, reply not read yet
        self._start()  # loading takes a second or two: begin before the first request

    def submit(self, text: str, french: Sequence[tuple[int, int]] = ()) -> Pending:
        """Send `text` to the worker; its entities come from the returned `Pending`. The
        `french` ranges (its French sentences) are read by the French pipeline."""
        if french and self.french_package is None:
            raise ValueError("French sentences sent to a worker without a French pipeline")
        message = json.dumps([list(r) for r in french]).encode() + b"\n"
        message += text.encode("utf-8", "surrogatepass")
        with self._lock:
            if self._waiting is not None:  # a reply nobody asked for: read it off the socket
                # That text's request no longer waits for it; a dead worker is replaced below.
                with contextlib.suppress(NerUnavailable):
                    self._read(self._waiting)
            pending = Pending(self, message)
            self.french_texts += bool(french)
            self._send(pending)
            return pending

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker: close its socket (it leaves its loop), kill it if it lingers."""
        with self._lock:
            self._waiting = None
            self._stop(timeout)

    # Inside ------------------------------------------------------------------------------

    def _collect(self, pending: Pending) -> Entities:
        with self._lock:
            return self._read(pending)

    def _read(self, pending: Pending) -> Entities:
        if pending._entities is not None:
            return pending._entities
        if pending is not self._waiting or pending._conn is not self._conn:
            raise NerUnavailable(
                "the NER worker process ended while reading this request's text; the "
                "request was refused and the next one starts a new worker"
            )
        self._waiting = None
        conn = pending._conn
        assert conn is not None  # sent, or `_send` raised
        try:
            reply = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            died = self._died("reading a text")
            if pending.sent > self.retries:
                raise died from None
            # Killed from outside, or dead before the text arrived: a new worker reads it.
            # A text that kills spaCy itself kills that one too, and is refused.
            self._send(pending)
            return self._read(pending)
        if reply and reply[0] == "error":
            raise NerUnavailable(f"spaCy NER failed on this request's text ({reply[1]})")
        pending._entities = [(start, end, label) for start, end, label in reply]
        return pending._entities

    def _send(self, pending: Pending) -> None:
        conn = self._live()
        pending.sent += 1
        try:
            conn.send_bytes(pending.text)
        except OSError:
            died = self._died("receiving a text")
            if pending.sent > self.retries:
                raise died from None
            self._send(pending)
            return
        pending._conn, self._waiting = conn, pending

    def _live(self) -> Connection:
        if self._proc is not None and self._proc.poll() is not None:
            self._died("idle")  # died between requests: say so before replacing it
        if self._conn is None:
            self._start()
        assert self._conn is not None
        if not self._ready:
            self._await_ready(self._conn)
        return self._conn

    def _start(self) -> None:
        french = [self.french_package] if self.french_package else []
        self._spawn(WORKER_SCRIPT, self.package, *french)
        self._ready = False

    def _await_ready(self, conn: Connection) -> None:
        if not conn.poll(self.load_timeout):
            self._died("loading the pipeline")
            raise NerUnavailable(
                f"the NER worker did not load {self.package} within {self.load_timeout:.0f} s"
            )
        try:
            reply = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            raise self._died("loading the pipeline") from None
        if reply[0] != "ready":
            self._died("loading the pipeline")
            raise NerUnavailable(
                f"the NER worker could not load the spaCy pipeline {self.package} ({reply[1]})"
            )
        self._ready = True
        log.info("NER worker pid %s serving %s", self.pid, self.package)

    def _died(self, doing: str) -> NerUnavailable:
        """Record and log the worker's death; returns the error for the request it served."""
        self._waiting = None
        death = self._reap_dead(doing)
        how = death.how
        log.error(
            "NER worker (pid %s) died with %s while %s; the gateway keeps serving and the "
            "next text starts a new worker. Its stack, if spaCy crashed, is above in this log.",
            death.pid or "?",
            how,
            doing,
        )
        return NerUnavailable(
            f"the NER worker process died with {how} while {doing}; this request was refused "
            "(nothing was forwarded) and the next one starts a new worker"
        )
