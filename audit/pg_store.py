"""The PostgreSQL ledger store: one chain shared by every gateway replica on one database.

Appends are serialised by the single `frontier` row, locked FOR UPDATE inside the write
transaction (the sequencer row): a writer reads the head, inserts and advances the frontier,
and commits, while any other replica waits for the lock. A replica killed mid-append dies with
its transaction open; PostgreSQL rolls it back, so there is never a gap or half an entry.
Connections come from a psycopg pool; every read takes one for the call only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cogate.core.database import Database, DatabaseUse
from psycopg import Connection

from .merkle import Frontier
from .migrations import migrate_postgres
from .store import CHART_SQL, FACETS, KINDS_LISTED, Filters, Row, _where

ENTITY_PG = "(entry::jsonb -> 'entities') ? %s"
_COLUMNS = "seq, entry, hash, body"


def _row(r: tuple[Any, ...]) -> Row:
    seq, entry, digest, body = r
    return Row(seq, entry, digest, bytes(body) if body is not None else None)


class PostgresWriter:
    """The write side inside one transaction on one pooled connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # The head as of this transaction's last insert: a batch reads it from the database
        # once and writes the frontier back once, at commit (flush).
        self._head: tuple[Frontier, str | None] | None = None
        self._dirty = False

    def flush(self) -> None:
        if self._dirty and self._head is not None:
            f = self._head[0]
            self.conn.execute(
                "UPDATE frontier SET size = %s, nodes = %s WHERE id = 1",
                (f.size, json.dumps([n.hex() for n in f.nodes])),
            )
            self._dirty = False

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def head(self) -> tuple[Frontier, str | None]:
        if self._head is not None:
            f, last = self._head
            return Frontier(f.size, list(f.nodes)), last
        row = self.conn.execute(
            "SELECT size, nodes FROM frontier WHERE id = 1 FOR UPDATE"
        ).fetchone()
        assert row is not None, "the frontier row is created by the first migration"
        size, nodes = row
        frontier = Frontier(size, [bytes.fromhex(n) for n in json.loads(nodes)])
        tail = self.conn.execute("SELECT hash FROM entries WHERE seq = %s", (size,)).fetchone()
        self._head = (frontier, tail[0] if tail else None)
        return Frontier(frontier.size, list(frontier.nodes)), self._head[1]

    def insert(self, seq: int, entry: str, digest: str, body: bytes | None, f: Frontier) -> None:
        self.conn.execute(
            "INSERT INTO entries (seq, entry, hash, body) VALUES (%s, %s, %s, %s)",
            (seq, entry, digest, body),
        )
        self._head = (Frontier(f.size, list(f.nodes)), digest)
        self._dirty = True

    def insert_checkpoint(self, size: int, text: str) -> None:
        self.conn.execute(
            "INSERT INTO checkpoints (size, checkpoint) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (size, text),
        )

    def last_checkpoint(self) -> str | None:
        row = self.conn.execute(
            "SELECT checkpoint FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def entry_time(self, seq: int) -> str | None:
        row = self.conn.execute("SELECT time FROM entries WHERE seq = %s", (seq,)).fetchone()
        return row[0] if row else None

    def drop_bodies(self, before: str) -> list[int]:
        rows = self.conn.execute(
            "UPDATE entries SET body = NULL WHERE time < %s AND body IS NOT NULL RETURNING seq",
            (before,),
        ).fetchall()
        return sorted(r[0] for r in rows)


class PostgresStore:
    """`LedgerStore` on PostgreSQL; `create=False` for the review side (no migrations)."""

    def __init__(
        self, database: Database | str, *, create: bool = True, max_size: int = 10
    ) -> None:
        self.use = DatabaseUse(database, "ledger", max_size)
        self.url = self.use.database.url
        self.where = self.use.database.where
        self.pool = self.use.pool
        if create:
            with self.pool.connection() as conn:
                migrate_postgres(conn)
        elif self.meta_or_none("ledger_id") is None:
            self.use.close()
            raise FileNotFoundError(
                f"no cogate ledger in {self.where}; start `cogate serve --database-url` first"
            )

    def close(self) -> None:
        self.use.close()

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[PostgresWriter]:
        with self.pool.connection() as conn, conn.transaction():
            if not durable:
                # The server's WAL is flushed in order: the next durable commit covers this.
                conn.execute("SET LOCAL synchronous_commit = off")
            writer = PostgresWriter(conn)
            yield writer
            writer.flush()

    def reclaim(self) -> None:
        # Dead row versions still hold the dropped bodies until vacuumed.
        with self.pool.connection() as conn:
            conn.execute("VACUUM entries")

    def _one(self, sql: str, args: Any = ()) -> tuple[Any, ...] | None:
        with self.pool.connection() as conn:
            return conn.execute(sql, args).fetchone()

    def _all(self, sql: str, args: Any = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            return conn.execute(sql, args).fetchall()

    def meta_or_none(self, key: str) -> str | None:
        try:
            return self.meta(key)
        except Exception:  # noqa: BLE001 - no schema yet reads as "no ledger here"
            return None

    def meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return row[0] if row else None

    def last_checkpoint(self) -> str | None:
        row = self._one("SELECT checkpoint FROM checkpoints ORDER BY size DESC LIMIT 1")
        return row[0] if row else None

    def checkpoints(self) -> list[str]:
        return [r[0] for r in self._all("SELECT checkpoint FROM checkpoints ORDER BY size")]

    def scan(self, batch: int = 5000) -> Iterator[Row]:
        """Every row in seq order, in batches so 100k entries do not sit in memory at once."""
        last = -1
        while True:
            rows = self._all(
                f"SELECT {_COLUMNS} FROM entries WHERE seq > %s ORDER BY seq LIMIT %s",
                (last, batch),
            )
            if not rows:
                return
            for r in rows:
                yield _row(r)
            last = rows[-1][0]

    def count(self) -> int:
        row = self._one("SELECT count(*) FROM entries")
        return int(row[0]) if row else 0

    def get(self, seq: int) -> Row | None:
        r = self._one(f"SELECT {_COLUMNS} FROM entries WHERE seq = %s", (seq,))
        return _row(r) if r else None

    def completion_for(self, seq: int) -> Row | None:
        r = self._one(
            f"SELECT {_COLUMNS} FROM entries WHERE egress = %s ORDER BY seq LIMIT 1", (seq,)
        )
        return _row(r) if r else None

    def query(self, f: Filters) -> list[Row]:
        where, args = _where(f, "%s", ENTITY_PG)
        sql = f"SELECT {_COLUMNS} FROM entries WHERE {where} ORDER BY seq DESC LIMIT %s OFFSET %s"
        return [_row(r) for r in self._all(sql, [*args, f.limit, f.offset])]

    def total(self, f: Filters) -> int:
        where, args = _where(f, "%s", ENTITY_PG)
        row = self._one(f"SELECT count(*) FROM entries WHERE {where}", args)
        return int(row[0]) if row else 0

    def completions(self, seqs: list[int]) -> dict[int, Row]:
        if not seqs:
            return {}
        rows = self._all(
            f"SELECT {_COLUMNS} FROM entries WHERE egress = ANY(%s) ORDER BY seq", (seqs,)
        )
        out: dict[int, Row] = {}
        for r in rows:
            out.setdefault(json.loads(r[1])["egress"], _row(r))
        return out

    def chart_rows(self, f: Filters) -> Iterator[tuple[str, str, str, str, str, str, int]]:
        where, args = _where(f, "%s", ENTITY_PG)
        yield from self._all(CHART_SQL.format(where=where), args)

    def bodies_before(self, before: str) -> tuple[int, int | None, int | None, int]:
        row = self._one(
            "SELECT count(*), min(seq), max(seq), coalesce(sum(octet_length(body)), 0) "
            "FROM entries WHERE time < %s AND body IS NOT NULL",
            (before,),
        )
        assert row is not None  # an aggregate always has a row
        return int(row[0]), row[1], row[2], int(row[3])

    def containing(self, needles: list[str]) -> list[Row]:
        if not needles:
            return []
        where = " OR ".join(["strpos(entry, %s) > 0"] * len(needles))
        rows = self._all(
            f"SELECT seq, entry, hash, NULL FROM entries WHERE {where} ORDER BY seq", needles
        )
        return [_row(r) for r in rows]

    def facets(self) -> dict[str, list[str]]:
        kinds = KINDS_LISTED
        out = {
            name: [
                r[0]
                for r in self._all(
                    f"SELECT DISTINCT {name} FROM entries WHERE {kinds} AND {name} IS NOT NULL "
                    "ORDER BY 1"
                )
            ]
            for name in FACETS
        }
        out["entity"] = [
            r[0]
            for r in self._all(
                "SELECT DISTINCT jsonb_object_keys(entry::jsonb -> 'entities') AS k "
                f"FROM entries WHERE {kinds} ORDER BY 1"
            )
        ]
        return out
