"""Fixtures for the team deployment tests: one real PostgreSQL server per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..pgserver import fresh_database, postgres_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def database_url(postgres: str) -> str:
    """An empty database of its own for each test."""
    return fresh_database(postgres)
