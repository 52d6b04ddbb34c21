"""Shared fixtures: a temporary cogate home for every test, real servers for end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .servers import llama_server


@pytest.fixture(autouse=True)
def cogate_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real user data dir."""
    home = tmp_path / "cogate-home"
    monkeypatch.setenv("COGATE_HOME", str(home))
    for name in (
        "COGATE_TOKEN",
        "COGATE_UPSTREAM",
        "COGATE_POLICY",
        "COGATE_UPSTREAM_API_KEY",
        "COGATE_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session")
def llama_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real llama.cpp OpenAI-compatible server (SmolLM2) for the whole session."""
    with llama_server(tmp_path_factory.mktemp("llama"), embedding=True) as url:
        yield url
