"""Runs the addon's unit tests (tests/intercept/addon_tests) inside mitmproxy's own environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MITM_PYTHON = REPO / ".mitm-venv" / "bin" / "python"
ADDON_TESTS = Path(__file__).resolve().parent / "addon_tests"


@pytest.mark.mitm
def test_addon_unit_tests_pass_in_the_mitmproxy_environment():
    if not MITM_PYTHON.exists():
        pytest.fail("mitmproxy's environment is missing: run `make mitm` (creates .mitm-venv)")
    probe = subprocess.run([str(MITM_PYTHON), "-c", "import pytest"], capture_output=True)
    if probe.returncode != 0:
        pytest.fail(
            "pytest is missing from .mitm-venv: pin it in constraints-mitm.txt, run `make mitm`"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COGATE_", "PYTHON"))}
    done = subprocess.run(
        [
            str(MITM_PYTHON),
            "-m",
            "pytest",
            "-q",
            "--noconftest",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::DeprecationWarning",
            str(ADDON_TESTS),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
