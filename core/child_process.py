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

Child = subprocess.Popen[bytes]


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
