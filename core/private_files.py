"""Owner-only files in the data dir: keys, secrets, ledger state.

One place for how cogate writes them, so every part (ledger, pseudonym hashing,
interception secret) gets the same guarantees: mode 0600 from the first byte, written
whole and durably, and never seen half-written by another process.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def _temp_copy(path: Path, data: bytes) -> Path:
    """A finished, fsynced, owner-only file next to `path`, not yet in place."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def write_private(path: Path, data: bytes) -> None:
    """Write a whole file owner-only and durably, replacing any previous one."""
    tmp = _temp_copy(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_once(path: Path, data: bytes) -> bytes:
    """Create `path` with `data` unless it exists; return what is in it either way.

    Linking a finished temp file into place is atomic and fails if another process won the
    race, so every process ends up with the same key and none reads a half-written one.
    """
    if not path.exists():
        tmp = _temp_copy(path, data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()
