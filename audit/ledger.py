"""The SQLite ledger the gateway writes through: write-ahead egress entries, completions,
and signed checkpoints every N entries, every T seconds and at close.

Thread-safe (one connection behind a lock) and multi-process safe (BEGIN IMMEDIATE: the
seq, prev hash and Merkle frontier are read and advanced under SQLite's write lock).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import checkpoints
from .entries import completion_fields, egress_fields
from .hashing import GENESIS, canonical, entry_hash, format_hash, parse_hash
from .keys import KeyStore, private_dir
from .paths import LedgerPaths
from .records import CompletionRecord, EgressRecord
from .store import SQLiteStore


def now() -> str:
    # Fixed-width UTC with microseconds: string order is time order, for range filters.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SQLiteLedger:
    def __init__(
        self,
        data_dir: Path,
        *,
        checkpoint_every: int = 256,
        checkpoint_seconds: float = 300.0,
        background: bool = True,
    ) -> None:
        self.paths = LedgerPaths(Path(data_dir))
        private_dir(self.paths.data_dir)
        private_dir(self.paths.audit_dir)
        self.keys = KeyStore(self.paths.keys_dir)
        self._hmac = self.keys.hmac_key()
        self._signer = self.keys.signing_key()
        self._public = self.keys.public_key()
        self.store = SQLiteStore(self.paths.db)
        self.ledger_id = self.store.meta("ledger_id") or ""
        self.every = max(1, int(checkpoint_every))
        self.seconds = float(checkpoint_seconds)
        self._lock = threading.Lock()
        self._closed = False
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        if background and self.seconds > 0:
            self._timer = threading.Thread(
                target=self._tick, name="cogate-audit-checkpoint", daemon=True
            )
            self._timer.start()

    # -- the Ledger protocol -----------------------------------------------------------

    def append_egress(self, record: EgressRecord) -> str:
        fields, body = egress_fields(record, self._hmac)
        return str(self._append(fields, body))

    def append_completion(self, record: CompletionRecord) -> str:
        return str(self._append(completion_fields(record), None))

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

    def _append(self, fields: dict[str, Any], body: bytes | None) -> int:
        with self._lock:
            if self._closed:
                raise RuntimeError("the audit ledger is closed")
            with self.store.transaction():
                seq = self._insert(fields, body)
            due = self._due(seq)
        if due:
            self.checkpoint()
        return seq

    def _insert(self, fields: dict[str, Any], body: bytes | None) -> int:
        """Chain and insert one entry; the caller holds the lock and a write transaction."""
        frontier, last = self.store.head()
        seq = frontier.size + 1
        entry = {**fields, "seq": seq, "prev": last or GENESIS, "time": now()}
        text = canonical(entry)
        digest = entry_hash(text)
        frontier.append(parse_hash(digest))
        self.store.insert(seq, text.decode(), digest, body, frontier)
        return seq

    def prune(self, before: str) -> tuple[int, int | None]:
        """Drop stored bodies older than `before` (hashes stay, so the chain still verifies)
        and record the prune as an entry; returns (bodies dropped, prune entry seq)."""
        with self._lock:
            with self.store.transaction():
                seqs = self.store.drop_bodies(before)
                if not seqs:
                    return 0, None
                fields = {
                    "v": 1,
                    "kind": "prune",
                    "before": before,
                    "through": max(seqs),
                    "dropped": len(seqs),
                }
                seq = self._insert(fields, None)
            # Move the zeroed pages out of the WAL too, so dropped bytes leave the disk.
            self.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.checkpoint()
        return len(seqs), seq

    def _due(self, size: int) -> bool:
        last = self.store.last_checkpoint()
        signed = checkpoints.parse(last).size if last else 0
        if size - signed >= self.every:
            return True
        # Timed: no entry should stay unsigned longer than `checkpoint_seconds`.
        oldest = self.store.entry_time(signed + 1) if size > signed and self.seconds > 0 else None
        return oldest is not None and _age(oldest) >= self.seconds

    def checkpoint(self) -> checkpoints.Checkpoint | None:
        """Sign the current tree head unless a checkpoint already covers it."""
        with self._lock:
            if self._closed:
                return None
            with self.store.transaction():
                frontier, _ = self.store.head()
                last = self.store.last_checkpoint()
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
                self.store.insert_checkpoint(cp.size, cp.text())
                # Written while the write lock is held, after the entries it covers were
                # committed: a crash before COMMIT leaves a valid checkpoint in the file only.
                checkpoints.append_line(self.paths.checkpoint_file, cp.text())
            return cp

    def _tick(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                with self._lock:
                    if self._closed:
                        return
                    frontier, _ = self.store.head()
                    due = frontier.size > 0 and self._due(frontier.size)
                if due:
                    self.checkpoint()
            except Exception:  # noqa: BLE001 - a failed timed checkpoint is retried next tick
                continue


def _age(iso: str) -> float:
    try:
        then = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return float("inf")
    return (datetime.now(UTC) - then).total_seconds()
