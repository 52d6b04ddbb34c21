"""Start real local servers: llama.cpp's OpenAI-compatible server and `cogate serve`.

Used by `make demo`, the end-to-end tests and the benchmarks; each runs as its own process
on loopback, the way a user runs it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cogate.collab.model_files import embedded_model_path

BIN = Path(sys.executable).parent


class ServerURL(str):
    """A running server's base URL that also knows the server's process and log file."""

    pid: int
    proc: subprocess.Popen
    log: Path
    name: str

    def __new__(cls, url: str, proc: subprocess.Popen, log: Path, name: str) -> ServerURL:
        value = super().__new__(cls, url)
        value.pid, value.proc, value.log, value.name = proc.pid, proc, log, name
        return value


class ServerDied(RuntimeError):
    """A server process ended: which one, how (signal or exit code), its last log lines."""

    def __init__(self, name: str, pid: int, returncode: int, log: Path, lines: int = 15) -> None:
        self.name, self.pid, self.returncode, self.log = name, pid, returncode, log
        self.tail = log_tail(log, lines)
        super().__init__(
            f"{name} (pid {pid}) {describe_exit(returncode)}; last lines of {log}:\n{self.tail}"
        )


def describe_exit(returncode: int) -> str:
    """'died with SIGILL (signal 4)' or 'exited with code 3'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"died with {name} (signal {-returncode})"
    return f"exited with code {returncode}"


def log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty log)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(
    url: str, proc: subprocess.Popen, log: Path, timeout: float = 180.0, *, name: str = "server"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerDied(name, proc.pid, proc.returncode, log)
        try:
            if httpx.get(url, timeout=2.0, trust_env=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{name} at {url} not ready after {timeout}s:\n{log_tail(log, 40)}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def llama_server(
    workdir: Path,
    model: Path | None = None,
    *,
    embedding: bool = False,
    extra: list[str] | None = None,
) -> Iterator[ServerURL]:
    """llama.cpp's OpenAI-compatible server on loopback; yields its base URL (…/v1)."""
    port = free_port()
    log = workdir / f"llama-{port}.log"
    cmd = [
        str(BIN / "python"),
        "-m",
        "llama_cpp.server",
        "--model",
        str(model or embedded_model_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        "1",  # the gateway's own local model needs the other core
        "--verbose",
        "false",
    ]
    if embedding:
        cmd += ["--embedding", "true"]
    cmd += extra or []
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        name = "the llama.cpp server"
        wait_ready(f"http://127.0.0.1:{port}/v1/models", proc, log, name=name)
        yield ServerURL(f"http://127.0.0.1:{port}/v1", proc, log, name)
    finally:
        stop(proc)


@contextmanager
def cogate_server(
    workdir: Path,
    upstream: str,
    *,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    data_dir: Path | None = None,
) -> Iterator[ServerURL]:
    """`cogate serve` as a user runs it; yields the base URL apps point at (…/v1)."""
    port = free_port()
    log = workdir / f"cogate-{port}.log"
    data_dir = data_dir or workdir / "data"
    cmd = [
        str(BIN / "cogate"),
        "serve",
        "--port",
        str(port),
        "--upstream",
        upstream,
        "--data-dir",
        str(data_dir),
        *(args or []),
    ]
    full_env = {**os.environ, **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env)
    try:
        name = "the cogate gateway"
        wait_ready(f"http://127.0.0.1:{port}/cogate/health", proc, log, name=name)
        yield ServerURL(f"http://127.0.0.1:{port}/v1", proc, log, name)
    finally:
        stop(proc)
