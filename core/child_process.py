"""Worker processes the gateway supervises (the local model's, spaCy NER's): a plain script
started on one end of a socket pair, stopped by closing our end, and reaped after a death
with how it ended. What each worker says and does lives with its supervisor."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

Child = subprocess.Popen[bytes]


class Death(NamedTuple):
    """How a supervised worker ended: `SIGKILL` or `exit code 1`, its status and its pid."""

    how: str
    code: int | None
    pid: int | None


class Supervised:
    """What a supervisor keeps of its worker: the process, our end of its socket, and the
    history `/cogate/health` reports."""

    def __init__(self) -> None:
        self._proc: Child | None = None
        self._conn: Connection | None = None
        self.starts = 0
        self.deaths = 0
        self.last_death = ""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def status(self) -> dict[str, Any]:
        """What /cogate/health says about the worker."""
        state = {"pid": self.pid, "starts": self.starts, "deaths": self.deaths}
        return state | ({"last_death": self.last_death} if self.last_death else {})

    def _spawn(self, script: Path, *args: str) -> Connection:
        self._proc, self._conn = spawn(script, *args)
        self.starts += 1
        return self._conn

    def _stop(self, timeout: float) -> None:
        proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        stop(proc, conn, timeout)

    def _reap_dead(self, doing: str) -> Death:
        """Reap the worker whose socket broke (or that was found dead) and count its death."""
        proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        code = reap(proc, conn)
        death = Death(how_it_ended(code), code, proc.pid if proc is not None else None)
        self.deaths += 1
        self.last_death = f"{death.how} while {doing}"
        return death


def spawn(script: Path, *args: str) -> tuple[Child, Connection]:
    """Start `python -P script FD *args`; FD is the worker's end of the socket pair."""
    ours, theirs = socket.socketpair()
    # -P: the script's folder must not shadow modules the script imports
    argv = [sys.executable, "-P", str(script), str(theirs.fileno()), *args]
    with theirs:
        child = subprocess.Popen(
            argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True
        )
    return child, Connection(ours.detach())


def stop(child: Child | None, conn: Connection | None, timeout: float = 5.0) -> None:
    """Close our end (the worker leaves its loop at the end of file); kill it if it lingers."""
    if conn is not None:
        conn.close()
    if child is not None:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def reap(child: Child | None, conn: Connection | None) -> int | None:
    """The exit status of a worker whose socket broke; one that still lives is killed."""
    if conn is not None:
        conn.close()
    if child is None:
        return None
    try:
        return child.wait(5.0)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def how_it_ended(code: int | None) -> str:
    """`SIGKILL`, `signal 99` or `exit code 1`, from an exit status."""
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"
