"""`cogate serve` refuses an open bind without a token; `cogate --version` answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

COGATE = str(Path(sys.executable).parent / "cogate")


def test_non_loopback_bind_without_token_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [COGATE, "serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "COGATE_TOKEN" in result.stderr and "--token" in result.stderr


def test_version() -> None:
    result = subprocess.run([COGATE, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("cogate, version")
