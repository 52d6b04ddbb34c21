"""The real privacy engine for the audit tests that send requests through the gateway (loaded
once: spaCy takes seconds)."""

from __future__ import annotations

import pytest
from cogate.core.settings import Settings
from cogate.policies.privacy import Privacy

POLICY = """
routes:
  - name: frozen
    match: {app: "legacy-*"}
    mode: block
"""


@pytest.fixture(scope="session")
def privacy(tmp_path_factory: pytest.TempPathFactory) -> Privacy:
    root = tmp_path_factory.mktemp("audit-privacy")
    (root / "policy.yaml").write_text(POLICY)
    return Privacy(
        Settings(data_dir=root / "data", policy=root / "policy.yaml", upstream="http://up.test/v1")
    )
