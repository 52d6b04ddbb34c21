"""A real PostgreSQL server on loopback for tests and benchmarks, started from Debian's
`postgresql` package (initdb/pg_ctl), as the `postgres` user when we run as root."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from .servers import free_port


def pg_bin(name: str) -> str:
    """A PostgreSQL client or server program, newest installed major version first."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if found:
        return found[0]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise RuntimeError(
        f"PostgreSQL's {name} is not installed; run `make system-packages` (Debian package "
        "`postgresql`)"
    )


def _as_owner(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server as the package's `postgres` user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway cluster; yields the URL of its `postgres` database."""
    # Not under pytest's tmp dir: that is owner-only (root), and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="cogate-pg-"))
    data, sock, log = base / "data", base / "sock", base / "server.log"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
    port = free_port()
    run = lambda cmd: subprocess.run(_as_owner(cmd), check=True, capture_output=True)  # noqa: E731
    run([pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=300"
    run([pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_owner([pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    name = "cogate_" + secrets.token_hex(6)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name
