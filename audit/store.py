"""The ledger's store interface (`LedgerStore`) and its SQLite implementation.

All of the ledger's SQL lives behind this interface: the embedded SQLite store here and the
PostgreSQL store in `pg_store.py`. The chain logic (`ledger.py`) and the review side
(`review.py`) never see a connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .merkle import Frontier
from .migrations import migrate


@dataclass
class Row:
    seq: int
    entry: str
    hash: str
    body: bytes | None


@dataclass
class Filters:
    since: str | None = None  # ISO time, inclusive
    until: str | None = None  # ISO time, exclusive
    app: str | None = None
    host: str | None = None
    mode: str | None = None
    entity: str | None = None
    identity: str | None = None
    route: str | None = None  # "-" : the base policy (no route applied)
    kinds: tuple[str, ...] = ("egress", "local", "refusal")
    limit: int = 100
    offset: int = 0


class LedgerWriter(Protocol):
    """What the chain needs inside one write transaction, which holds the append lock."""

    def meta(self, key: str) -> str | None: ...

    def head(self) -> tuple[Frontier, str | None]:
        """The Merkle frontier and the last entry's hash; locks out other writers."""
        ...

    def insert(
        self, seq: int, entry: str, digest: str, body: bytes | None, f: Frontier
    ) -> None: ...

    def insert_checkpoint(self, size: int, text: str) -> None: ...

    def last_checkpoint(self) -> str | None: ...

    def entry_time(self, seq: int) -> str | None: ...

    def drop_bodies(self, before: str) -> list[int]: ...


class LedgerStore(Protocol):
    """A ledger backend: a write transaction for the chain, and the reads review needs."""

    where: str  # where the entries live, for `audit status` (a path or a redacted URL)

    def transaction(self, durable: bool = True) -> AbstractContextManager[LedgerWriter]:
        """A write transaction. `durable=False` commits without waiting for the disk: the
        entries become durable with the next durable commit (a log is flushed in order), and
        a crash before that loses them from the end of the chain only."""
        ...

    def reclaim(self) -> None:
        """Make pruned bytes leave the disk (after a prune)."""
        ...

    def close(self) -> None: ...

    def meta(self, key: str) -> str | None: ...

    def last_checkpoint(self) -> str | None: ...

    def checkpoints(self) -> list[str]: ...

    def scan(self, batch: int = 5000) -> Iterator[Row]: ...

    def count(self) -> int: ...

    def get(self, seq: int) -> Row | None: ...

    def completion_for(self, seq: int) -> Row | None: ...

    def query(self, f: Filters) -> list[Row]: ...

    def total(self, f: Filters) -> int: ...

    def completions(self, seqs: list[int]) -> dict[int, Row]: ...

    def facets(self) -> dict[str, list[str]]: ...

    def chart_rows(self, f: Filters) -> Iterator[tuple[str, str, str, str, str, str, int]]:
        """(day, kind, app, host, mode, entities JSON, entries) of the entries the filters
        select, grouped: a few thousand groups rather than 100,000 rows."""
        ...

    def bodies_before(self, before: str) -> tuple[int, int | None, int | None, int]:
        """What a prune at `before` would drop: (bodies, first seq, last seq, bytes)."""
        ...

    def containing(self, needles: list[str]) -> list[Row]:
        """Entries whose text holds any of `needles` (value tags), in seq order; bodies are
        not read."""
        ...


def _create_private_file(path: Path) -> None:
    # SQLite gives the -wal and -shm files the mode of the database file, so 0600 here
    # keeps all three owner-only.
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


class SQLiteStore:
    def __init__(self, path: Path, *, busy_ms: int = 10_000, create: bool = True) -> None:
        self.path = path
        self.where = str(path)
        if create:
            _create_private_file(path)
        elif not path.exists():
            raise FileNotFoundError(f"no ledger database at {path}")
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so the write lock is
        # taken before the head is read and two writers can never pick the same seq.
        self.db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=busy_ms / 1000
        )
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self._synchronous = "FULL"
        # Pruned bodies are overwritten with zeros rather than left in free pages.
        self.db.execute("PRAGMA secure_delete = ON")
        if create:
            migrate(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[SQLiteStore]:
        # In WAL mode FULL flushes the log at every commit and NORMAL does not; the log is
        # appended in order, so the next FULL commit makes every earlier one durable too.
        synchronous = "FULL" if durable else "NORMAL"
        if synchronous != self._synchronous:
            self.db.execute(f"PRAGMA synchronous = {synchronous}")
            self._synchronous = synchronous
        # The store is its own writer: one connection, and BEGIN IMMEDIATE is the append lock.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def reclaim(self) -> None:
        # Move the zeroed pages out of the WAL too, so dropped bytes leave the disk.
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- writer side (call inside transaction()) --------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def head(self) -> tuple[Frontier, str | None]:
        size, nodes = self.db.execute("SELECT size, nodes FROM frontier WHERE id = 1").fetchone()
        frontier = Frontier(size, [bytes.fromhex(n) for n in json.loads(nodes)])
        last = self.db.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return frontier, (last[0] if last else None)

    def insert(self, seq: int, entry: str, digest: str, body: bytes | None, f: Frontier) -> None:
        self.db.execute(
            "INSERT INTO entries (seq, entry, hash, body) VALUES (?, ?, ?, ?)",
            (seq, entry, digest, body),
        )
        self.db.execute(
            "UPDATE frontier SET size = ?, nodes = ? WHERE id = 1",
            (f.size, json.dumps([n.hex() for n in f.nodes])),
        )

    def insert_checkpoint(self, size: int, text: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO checkpoints (size, checkpoint) VALUES (?, ?)", (size, text)
        )

    def last_checkpoint(self) -> str | None:
        row = self.db.execute(
            "SELECT checkpoint FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def entry_time(self, seq: int) -> str | None:
        row = self.db.execute("SELECT time FROM entries WHERE seq = ?", (seq,)).fetchone()
        return row[0] if row else None

    def drop_bodies(self, before: str) -> list[int]:
        seqs = [
            r[0]
            for r in self.db.execute(
                "SELECT seq FROM entries WHERE time < ? AND body IS NOT NULL", (before,)
            )
        ]
        self.db.execute(
            "UPDATE entries SET body = NULL WHERE time < ? AND body IS NOT NULL", (before,)
        )
        return seqs

    # -- reader side -------------------------------------------------------------------

    def checkpoints(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT checkpoint FROM checkpoints ORDER BY size")]

    def scan(self, batch: int = 5000) -> Iterator[Row]:
        """Every row in seq order, in batches so 100k entries do not sit in memory at once."""
        last = -1
        while True:
            rows = self.db.execute(
                "SELECT seq, entry, hash, body FROM entries WHERE seq > ? ORDER BY seq LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield Row(*r)
            last = rows[-1][0]

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM entries").fetchone()[0]

    def get(self, seq: int) -> Row | None:
        r = self.db.execute(
            "SELECT seq, entry, hash, body FROM entries WHERE seq = ?", (seq,)
        ).fetchone()
        return Row(*r) if r else None

    def completion_for(self, seq: int) -> Row | None:
        r = self.db.execute(
            "SELECT seq, entry, hash, body FROM entries WHERE egress = ? ORDER BY seq LIMIT 1",
            (seq,),
        ).fetchone()
        return Row(*r) if r else None

    def query(self, f: Filters) -> list[Row]:
        where, args = _where(f)
        # The page's ids first, from the review index alone; then only those rows: sorting
        # whole entries to keep 100 of 100,000 took a second.
        ids = f"SELECT seq FROM entries WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?"
        seqs = [r[0] for r in self.db.execute(ids, [*args, f.limit, f.offset])]
        if not seqs:
            return []
        marks = ",".join("?" * len(seqs))
        sql = f"SELECT seq, entry, hash, body FROM entries WHERE seq IN ({marks}) ORDER BY seq DESC"
        return [Row(*r) for r in self.db.execute(sql, seqs)]

    def total(self, f: Filters) -> int:
        where, args = _where(f)
        return self.db.execute(f"SELECT count(*) FROM entries WHERE {where}", args).fetchone()[0]

    def completions(self, seqs: list[int]) -> dict[int, Row]:
        if not seqs:
            return {}
        marks = ",".join("?" * len(seqs))
        rows = self.db.execute(
            f"SELECT seq, entry, hash, body FROM entries WHERE egress IN ({marks})", seqs
        )
        return {json.loads(r[1])["egress"]: Row(*r) for r in rows}

    def chart_rows(self, f: Filters) -> Iterator[tuple[str, str, str, str, str, str, int]]:
        where, args = _where(f)
        yield from self.db.execute(CHART_SQL.format(where=where), args)

    def bodies_before(self, before: str) -> tuple[int, int | None, int | None, int]:
        row = self.db.execute(
            "SELECT count(*), min(seq), max(seq), coalesce(sum(length(body)), 0) FROM entries "
            "WHERE time < ? AND body IS NOT NULL",
            (before,),
        ).fetchone()
        return int(row[0]), row[1], row[2], int(row[3])

    def containing(self, needles: list[str]) -> list[Row]:
        if not needles:
            return []
        # A substring test per row, no JSON parsing: the caller confirms in the parsed tags.
        where = " OR ".join(["instr(entry, ?) > 0"] * len(needles))
        sql = f"SELECT seq, entry, hash, NULL FROM entries WHERE {where} ORDER BY seq"
        return [Row(*r) for r in self.db.execute(sql, needles)]

    def facets(self) -> dict[str, list[str]]:
        """Distinct values for the review page's filter menus."""
        kinds = KINDS_LISTED
        out = {
            name: [
                r[0]
                for r in self.db.execute(
                    f"SELECT DISTINCT {name} FROM entries WHERE {kinds} AND {name} IS NOT NULL "
                    "ORDER BY 1"
                )
            ]
            for name in FACETS
        }
        # A few distinct count objects, read from the index; their keys are the types.
        combos = self.db.execute(f"SELECT DISTINCT entities FROM entries WHERE {kinds}")
        out["entity"] = entity_types(r[0] for r in combos)
        return out


CHART_SQL = (
    "SELECT substr(time, 1, 10) AS day, kind, app, host, mode, entities, count(*) "
    "FROM entries WHERE {where} GROUP BY day, kind, app, host, mode, entities"
)


def entity_types(combos: Iterator[str | None]) -> list[str]:
    """The entity types named in distinct `entities` objects (JSON text)."""
    return sorted({key for text in combos if text for key in json.loads(text)})


KINDS_LISTED = "kind IN ('egress', 'local', 'refusal')"
FACETS = ("app", "host", "mode", "identity", "route", "kind")
# Over the `entities` column (in the review index), not the whole entry.
ENTITY_SQLITE = "EXISTS (SELECT 1 FROM json_each(entities) WHERE key = ?)"


def app_pattern(app: str) -> str:
    """A route-style app pattern (`Notes-*`) as a lower-cased SQL LIKE pattern."""
    escaped = app.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _where(f: Filters, mark: str = "?", entity: str = ENTITY_SQLITE) -> tuple[str, list[Any]]:
    """The WHERE clause of a filtered listing; `mark` and `entity` carry the dialect."""
    clauses = [f"kind IN ({','.join([mark] * len(f.kinds))})"]
    args: list[Any] = list(f.kinds)
    if f.app is not None:
        # As policy routes match apps: case-insensitively, with * and ? as wildcards.
        clauses.append(f"lower(app) LIKE {mark} ESCAPE '\\'")
        args.append(app_pattern(f.app))
    for column, value in [("host", f.host), ("mode", f.mode), ("identity", f.identity)]:
        if value is not None:
            clauses.append(f"{column} = {mark}")
            args.append(value)
    if f.route == "-":
        clauses.append("route IS NULL")
    elif f.route is not None:
        clauses.append(f"route = {mark}")
        args.append(f.route)
    if f.since:
        clauses.append(f"time >= {mark}")
        args.append(f.since)
    if f.until:
        clauses.append(f"time < {mark}")
        args.append(f.until)
    if f.entity:
        clauses.append(entity)
        args.append(f.entity)
    return " AND ".join(clauses), args
