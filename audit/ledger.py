"""The ledger the gateway writes through: write-ahead egress entries, completions, and
signed checkpoints every N entries, every T seconds and at close.

`ChainLedger` holds the chain logic over any `LedgerStore`; the store's write transaction is
the append lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the frontier row FOR UPDATE), so the
seq, prev hash and Merkle frontier are read and advanced by one writer at a time, across
threads and processes. With group commit, concurrent appends in one process share a single
transaction and commit: each caller still returns only after its entry is durable.

Completion entries record what already happened (the bytes left before them), so they are
committed without waiting for the disk: the next egress entry's commit (or a checkpoint's,
or closing) flushes them with it, since the store's log is flushed in order. A crash can
lose only completions at the end of the chain, whose egress entries then read "outcome
unknown"; an egress entry is always durable before its caller may send a byte.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import checkpoints
from .entries import completion_fields, egress_fields
from .hashing import GENESIS, canonical, entry_hash, format_hash, parse_hash
from .keys import KeyStore, private_dir
from .paths import LedgerPaths
from .records import CompletionRecord, EgressRecord
from .store import LedgerStore, LedgerWriter, SQLiteStore

log = logging.getLogger("cogate.audit")


def now() -> str:
    # Fixed-width UTC with microseconds: string order is time order, for range filters.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Pending:
    fields: dict[str, Any]
    body: bytes | None
    durable: bool = True  # on the disk before the caller returns
    seq: int = 0
    error: BaseException | None = None
    done: bool = False
    due: bool = False  # a checkpoint is due after this entry


class ChainLedger:
    def __init__(
        self,
        store: LedgerStore,
        data_dir: Path,
        *,
        checkpoint_every: int = 256,
        checkpoint_seconds: float = 300.0,
        background: bool = True,
        group_commit: bool = False,
        retention_days: float | None = None,
        retention_every: float = 3600.0,
    ) -> None:
        self.paths = LedgerPaths(Path(data_dir))
        private_dir(self.paths.data_dir)
        private_dir(self.paths.audit_dir)
        self.keys = KeyStore(self.paths.keys_dir)
        self._hmac = self.keys.hmac_key()
        self._signer = self.keys.signing_key()
        self._public = self.keys.public_key()
        self.store = store
        self.ledger_id = self.store.meta("ledger_id") or ""
        self.every = max(1, int(checkpoint_every))
        self.seconds = float(checkpoint_seconds)
        self.group_commit = group_commit
        self._lock = threading.Lock()  # one writer transaction per process at a time
        self._queue_cv = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = False
        self.commits = 0  # append transactions committed (group commit makes it < appends)
        # Every commit asks whether a checkpoint is due; the last checkpoint and the time of
        # the first entry after it stay the same between checkpoints, so each is read once.
        self._signed: tuple[str, int] = ("", 0)
        self._first_unsigned: tuple[int, datetime | None] = (0, None)
        self._closed = False
        self._stop = threading.Event()
        # Called with (entry, hash) of each committed entry, in chain order, under the append
        # lock: they must not block (the audit sink queues a line).
        self.listeners: list[Callable[[dict[str, Any], str], None]] = []
        self._inserted: tuple[dict[str, Any], str] = ({}, "")
        self.retention_days = retention_days
        self.retention_every = retention_every
        self._timer: threading.Thread | None = None
        if background and (self.seconds > 0 or retention_days):
            self._timer = threading.Thread(
                target=self._tick, name="cogate-audit-checkpoint", daemon=True
            )
            self._timer.start()

    # -- the Ledger protocol -----------------------------------------------------------

    def append_egress(self, record: EgressRecord) -> str:
        fields, body = egress_fields(record, self._hmac)
        return str(self._append(fields, body))

    def append_completion(self, record: CompletionRecord) -> str:
        return str(self._append(completion_fields(record), None, durable=False))

    def close(self) -> None:
        if self._closed:
            return
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout=10)
        try:
            self.checkpoint()
        finally:
            with self._lock:
                self._closed = True
                self.store.close()

    # -- beyond the protocol -------------------------------------------------------------

    def append(self, fields: dict[str, Any], body: bytes | None = None) -> int:
        """Append an entry of any kind (the CLI records prunes this way)."""
        return self._append(fields, body)

    def _append(self, fields: dict[str, Any], body: bytes | None, durable: bool = True) -> int:
        pending = _Pending(fields, body, durable)
        if self.group_commit:
            self._append_grouped(pending)
        else:
            self._commit([pending])
        if pending.error is not None:
            raise pending.error
        if pending.due:
            self.checkpoint()
        return pending.seq

    def _append_grouped(self, pending: _Pending) -> None:
        """Queue the entry; the first waiter without a leader commits everyone queued."""
        with self._queue_cv:
            self._queue.append(pending)
            while self._leading and not pending.done:
                self._queue_cv.wait()
            if pending.done:
                return
            self._leading = True
            batch, self._queue = self._queue, []
        try:
            self._commit(batch)
        finally:
            with self._queue_cv:
                self._leading = False
                self._queue_cv.notify_all()

    def _commit(self, batch: list[_Pending]) -> None:
        """Chain and commit a batch in one transaction; every caller learns the outcome."""
        try:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the audit ledger is closed")
                durable = any(p.durable for p in batch)
                done: list[tuple[dict[str, Any], str]] | None = [] if self.listeners else None
                with self.store.transaction(durable) as tx:
                    seqs = [self._insert_noted(tx, p.fields, p.body, done) for p in batch]
                    due = self._due(tx, seqs[-1])
                self.commits += 1
                self._notify(done)
            for p, seq in zip(batch, seqs, strict=True):
                p.seq = seq
            batch[-1].due = due
        except BaseException as exc:  # noqa: BLE001 - handed to each waiting caller
            for p in batch:
                p.error = exc
        finally:
            for p in batch:
                p.done = True

    def _insert(self, tx: LedgerWriter, fields: dict[str, Any], body: bytes | None) -> int:
        """Chain and insert one entry; the caller holds a write transaction (and the append
        lock, under which `_inserted` names the entry for the listeners)."""
        frontier, last = tx.head()
        seq = frontier.size + 1
        entry = {**fields, "seq": seq, "prev": last or GENESIS, "time": now()}
        text = canonical(entry)
        digest = entry_hash(text)
        frontier.append(parse_hash(digest))
        tx.insert(seq, text.decode(), digest, body, frontier)
        self._inserted = (entry, digest)
        return seq

    def _insert_noted(
        self,
        tx: LedgerWriter,
        fields: dict[str, Any],
        body: bytes | None,
        done: list[tuple[dict[str, Any], str]] | None,
    ) -> int:
        seq = self._insert(tx, fields, body)
        if done is not None:
            done.append(self._inserted)
        return seq

    def _notify(self, done: list[tuple[dict[str, Any], str]] | None) -> None:
        for entry, digest in done or ():
            for listener in self.listeners:
                try:
                    listener(entry, digest)
                except Exception:  # noqa: BLE001 - a listener never fails a committed append
                    log.exception("ledger listener failed")

    def prune(self, before: str) -> tuple[int, int | None]:
        """Drop stored bodies older than `before` (hashes stay, so the chain still verifies)
        and record the prune as an entry; returns (bodies dropped, prune entry seq)."""
        with self._lock:
            done: list[tuple[dict[str, Any], str]] | None = [] if self.listeners else None
            with self.store.transaction() as tx:
                seqs = tx.drop_bodies(before)
                if not seqs:
                    return 0, None
                fields = {
                    "v": 1,
                    "kind": "prune",
                    "before": before,
                    "through": max(seqs),
                    "dropped": len(seqs),
                }
                seq = self._insert_noted(tx, fields, None, done)
            self._notify(done)
            self.store.reclaim()
        self.checkpoint()
        return len(seqs), seq

    def _due(self, tx: LedgerWriter, size: int) -> bool:
        signed = self._signed_size(tx.last_checkpoint())
        if size - signed >= self.every:
            return True
        # Timed: no entry should stay unsigned longer than `checkpoint_seconds`.
        if size <= signed or self.seconds <= 0:
            return False
        if self._first_unsigned[0] != signed + 1 or self._first_unsigned[1] is None:
            self._first_unsigned = (signed + 1, _parse_time(tx.entry_time(signed + 1)))
        oldest = self._first_unsigned[1]
        return oldest is not None and (datetime.now(UTC) - oldest).total_seconds() >= self.seconds

    def _signed_size(self, last: str | None) -> int:
        """The size the last checkpoint signed (parsed once per checkpoint, not per commit)."""
        if not last:
            return 0
        if self._signed[0] != last:
            self._signed = (last, checkpoints.parse(last).size)
        return self._signed[1]

    def checkpoint(self) -> checkpoints.Checkpoint | None:
        """Sign the current tree head unless a checkpoint already covers it."""
        with self._lock:
            if self._closed:
                return None
            with self.store.transaction() as tx:
                frontier, _ = tx.head()
                last = tx.last_checkpoint()
                if frontier.size == 0 or (last and checkpoints.parse(last).size >= frontier.size):
                    return None
                cp = checkpoints.sign(
                    self._signer,
                    self._public,
                    ledger=self.ledger_id,
                    size=frontier.size,
                    root=format_hash(frontier.root()),
                    time=now(),
                )
                tx.insert_checkpoint(cp.size, cp.text())
            # The durable commit above flushed every entry the checkpoint covers (completions
            # are committed without a flush of their own) before the file may name them.
            # Still under the append lock; a crash before this line leaves the checkpoint in
            # the database only, which verification reads as well.
            checkpoints.append_line(self.paths.checkpoint_file, cp.text())
            return cp

    def _tick(self) -> None:
        periods = [p for p in (self.seconds, self.retention_every) if p > 0]
        period = min(periods) if self.retention_days else self.seconds
        next_retention = 0.0  # the first round applies retention at once
        while True:
            if self.retention_days and time.monotonic() >= next_retention:
                next_retention = time.monotonic() + self.retention_every
                self._timed(self.apply_retention)
            if self.seconds > 0:
                self._timed(self._timed_checkpoint)
            if self._stop.wait(period):
                return

    def _timed(self, job: Any) -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - a failed timed job is retried next round
            log.warning("timed ledger job %s failed; retried later", job.__name__)

    def _timed_checkpoint(self) -> None:
        with self._lock:
            if self._closed:
                return
            with self.store.transaction() as tx:
                frontier, _ = tx.head()
                due = frontier.size > 0 and self._due(tx, frontier.size)
        if due:
            self.checkpoint()

    def apply_retention(self) -> tuple[int, int | None]:
        """Prune stored bodies older than `retention_days` (the prune is an entry)."""
        if not self.retention_days or self._closed:
            return 0, None
        cutoff = datetime.now(UTC) - timedelta(days=self.retention_days)
        dropped, seq = self.prune(cutoff.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        if dropped:
            log.info("retention: dropped %d stored bodies (entry %s)", dropped, seq)
        return dropped, seq


class SQLiteLedger(ChainLedger):
    """The embedded ledger in `<data_dir>/audit/ledger.sqlite3` (the single-machine default)."""

    def __init__(self, data_dir: Path, **options: Any) -> None:
        paths = LedgerPaths(Path(data_dir))
        private_dir(paths.data_dir)
        private_dir(paths.audit_dir)
        super().__init__(SQLiteStore(paths.db), data_dir, **options)


def _parse_time(iso: str | None) -> datetime | None:
    """An entry's time; one that cannot be read counts as long ago (a checkpoint is due)."""
    if iso is None:
        return None
    try:
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
