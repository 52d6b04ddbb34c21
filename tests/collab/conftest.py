"""Fixtures of the collaboration tests: one local model for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cogate.collab.runtime import LocalModel
from cogate.core.settings import Settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def local_model() -> Iterator[LocalModel]:
    """The embedded SmolLM2, loaded once; tests keep max_tokens small (2 shared cores)."""
    model = LocalModel(Settings(local_threads=1, local_context=4096, local_queue=2))
    model.load()
    yield model
    model._close(model._llama)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """CoGenesis-shaped data: the real dev split in ../shared/data next to the repository,
    else the fictitious samples in tests/data (same shape), so these tests always run."""
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    if (shared / "cogenesis-context-aware-dev.json").is_file():
        return shared
    return Path(__file__).resolve().parents[1] / "data"
