"""The install-time smoke check and the probe behind it: a real child process each time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from cogate.collab.model_files import embedded_model_path
from cogate.collab.runtime_check import probe, run_child


def test_the_installed_runtime_loads_the_embedded_model_and_generates() -> None:
    result = probe(embedded_model_path(), tokens=2)
    assert result.ok, result.output
    assert "generated 2 tokens" in result.output


def test_a_child_killed_by_sigill_is_named_with_its_cause_and_fix() -> None:
    kill = "import os, signal; print('loading'); os.kill(os.getpid(), signal.SIGILL)"
    result = run_child([sys.executable, "-c", kill])
    assert not result.ok
    assert result.returncode == -signal.SIGILL
    assert result.signal_name == "SIGILL"
    message = result.explain()
    assert "illegal instruction" in message and "AMX" in message
    assert "make install" in message and "portable" in message
    assert result.tail() == "loading"


def test_other_signals_and_exit_codes_are_reported_as_such() -> None:
    segv = run_child([sys.executable, "-c", "import os; os.kill(os.getpid(), 11)"])
    assert segv.signal_name == "SIGSEGV" and "SIGSEGV" in segv.explain()
    failed = run_child([sys.executable, "-c", "raise SystemExit(4)"])
    assert failed.signal_name is None and "exited with code 4" in failed.explain()


def test_smoke_check_fails_install_with_the_cause_when_the_runtime_dies(
    sigill_runtime: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(sigill_runtime)}
    done = subprocess.run(
        [sys.executable, "-m", "cogate.collab.runtime_check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert "local model runtime check FAILED" in done.stderr
    assert "SIGILL" in done.stderr and "CPU instructions this machine does not allow" in done.stderr
    assert "Fix:" in done.stderr


def test_smoke_check_passes_on_the_installed_runtime() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cogate.collab.runtime_check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "local model runtime: ok" in done.stdout
