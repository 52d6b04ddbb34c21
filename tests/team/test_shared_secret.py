"""Replicas sharing a data dir keep one interception secret instead of rotating it."""

from __future__ import annotations

import stat
from pathlib import Path

from cogate.proxy.intercept.secret import read_secret, rotate_secret, shared_secret


def test_a_second_replica_keeps_the_first_ones_secret(tmp_path: Path):
    path = shared_secret(tmp_path / "data")
    first = read_secret(tmp_path / "data")
    assert first and stat.S_IMODE(path.stat().st_mode) == 0o600
    shared_secret(tmp_path / "data")  # another replica starts on the same data dir
    assert read_secret(tmp_path / "data") == first


def test_an_unsafe_secret_is_replaced(tmp_path: Path):
    path = rotate_secret(tmp_path)
    old = read_secret(tmp_path)
    path.chmod(0o644)
    shared_secret(tmp_path)
    assert read_secret(tmp_path) not in (None, old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
