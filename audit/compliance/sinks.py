"""The audit sink: every ledger entry's metadata streamed to another system as a JSON line
(`cogate serve --audit-sink file:PATH | syslog://HOST:PORT | https://…`).

At-least-once: an entry leaves the bounded buffer only once the destination took it (a
write flushed to disk, a TCP send, a 2xx answer); a failed batch is retried with backoff,
so a sink restart loses nothing and may see a batch twice (each line carries `seq`). When
the buffer is full the oldest line is dropped and counted (`dropped`, a metric), rather
than slowing the gateway. Never a body, a value or a value's tag: only metadata.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

log = logging.getLogger("cogate.audit.sink")

# Entry fields that never leave through a sink (tags are keyed hashes of private values).
_WITHHELD = {"tags", "tag_form", "note"}
_NOTES = ("collab", "sensitive_task", "sensitive_categories", "local_model")


def metadata(entry: dict[str, Any], digest: str) -> dict[str, Any]:
    """An entry as a sink line: its metadata and hash, without tags or free-form notes."""
    line = {k: v for k, v in entry.items() if k not in _WITHHELD}
    note = entry.get("note")
    if isinstance(note, dict):
        kept = {k: note[k] for k in _NOTES if k in note}
        if kept:
            line["note"] = kept
    line["hash"] = digest
    return line


class Transport(Protocol):
    where: str

    def send(self, lines: list[bytes]) -> None:
        """Deliver the lines or raise; returning means the destination has them."""
        ...

    def close(self) -> None: ...


class FileTransport:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = f"file:{path}"

    def send(self, lines: list[bytes]) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, b"".join(line + b"\n" for line in lines))
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        return None


class SyslogTransport:
    """RFC 5424 messages over TCP, one per line (RFC 6587 newline framing); facility
    `log audit` (13), severity informational."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.where = f"syslog://{host}:{port}"
        self._sock: socket.socket | None = None
        self._hostname = socket.gethostname() or "-"

    def send(self, lines: list[bytes]) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        head = f"<110>1 {stamp} {self._hostname} cogate - audit - ".encode()
        data = b"".join(head + line + b"\n" for line in lines)
        try:
            if self._sock is None:
                self._sock = socket.create_connection(self.address, timeout=5)
            self._sock.sendall(data)
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class HttpTransport:
    """POST application/x-ndjson batches; a 2xx answer means delivered."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = url
        self._client = httpx.Client(timeout=10, trust_env=False)

    def send(self, lines: list[bytes]) -> None:
        body = b"".join(line + b"\n" for line in lines)
        answer = self._client.post(
            self.url, content=body, headers={"content-type": "application/x-ndjson"}
        )
        answer.raise_for_status()

    def close(self) -> None:
        self._client.close()


def parse_sink(spec: str) -> Transport:
    """`file:PATH`, `syslog://HOST:PORT`, `https://…` (`http://` only to a loopback host)."""
    if spec.startswith("file:"):
        path = Path(spec[len("file:") :]).expanduser()
        if not path.parent.is_dir():
            raise ValueError(f"--audit-sink {spec}: the folder {path.parent} does not exist")
        return FileTransport(path)
    parts = urlsplit(spec)
    if parts.scheme == "syslog":
        if not parts.hostname or not parts.port:
            raise ValueError(f"--audit-sink {spec}: write syslog://HOST:PORT (TCP)")
        return SyslogTransport(parts.hostname, parts.port)
    if parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    ):
        return HttpTransport(spec)
    raise ValueError(
        f"--audit-sink {spec!r}: use file:PATH, syslog://HOST:PORT or https://HOST/PATH "
        "(plain http only to a loopback address)"
    )


class AuditSink:
    """A bounded buffer of lines and the thread that delivers them."""

    def __init__(self, transport: Transport, *, capacity: int = 10_000, batch: int = 200) -> None:
        self.transport = transport
        self.capacity = max(1, capacity)
        self.batch = max(1, batch)
        self.delivered = 0
        self.dropped = 0
        self._buffer: collections.deque[bytes] = collections.deque()
        self._cv = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="cogate-audit-sink", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def offer(self, entry: dict[str, Any], digest: str) -> None:
        """Queue an entry's metadata (called by the ledger after each commit; never blocks)."""
        text = json.dumps(metadata(entry, digest), ensure_ascii=False, separators=(",", ":"))
        line = text.encode()
        with self._cv:
            if len(self._buffer) >= self.capacity:
                self._buffer.popleft()
                self.dropped += 1
            self._buffer.append(line)
            self._cv.notify()

    def _run(self) -> None:
        backoff = 0.05
        while True:
            with self._cv:
                while not self._buffer and not self._closing:
                    self._cv.wait()
                if not self._buffer:
                    return
                lines = list(self._buffer)[: self.batch]
            try:
                self.transport.send(lines)
            except Exception as exc:  # noqa: BLE001 - kept and retried: at-least-once
                log.warning("audit sink %s: %s; retrying", self.transport.where, type(exc).__name__)
                with self._cv:
                    if self._closing:
                        return
                    self._cv.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.05
            with self._cv:
                # Lines dropped meanwhile were the oldest, i.e. some of the ones just sent.
                for line in lines:
                    if self._buffer and self._buffer[0] is line:
                        self._buffer.popleft()
                self.delivered += len(lines)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is buffered (for up to `timeout` seconds), then stop."""
        deadline = time.monotonic() + timeout
        while self._buffer and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._thread.join(timeout=1)
        self.transport.close()
        if self._buffer:
            log.warning("audit sink %s: %d lines undelivered", self.where, len(self._buffer))

    @property
    def where(self) -> str:
        return self.transport.where
