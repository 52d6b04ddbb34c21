"""A llama.cpp runtime that dies the way a build with trapped instructions does (SIGILL)."""

from __future__ import annotations

from pathlib import Path

import pytest

# Put first on PYTHONPATH, this `llama_cpp` kills its own process with SIGILL on import, as a
# libggml compiled for AMX does on its first generation on a machine whose hypervisor traps it.
SIGILL_LLAMA = """import os, signal
os.kill(os.getpid(), signal.SIGILL)
"""


@pytest.fixture
def sigill_runtime(tmp_path: Path) -> Path:
    """A directory to prepend to PYTHONPATH: importing llama_cpp there dies with SIGILL."""
    root = tmp_path / "sigill-runtime"
    (root / "llama_cpp").mkdir(parents=True)
    (root / "llama_cpp" / "__init__.py").write_text(SIGILL_LLAMA)
    return root
