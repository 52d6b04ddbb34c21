"""Fixtures of the privacy engine's tests: one analyzer for the session, engines per policy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cogate.core.exchange import Exchange
from cogate.core.settings import Settings
from cogate.policies.detect.engine import Detector
from cogate.policies.privacy import Privacy
from cogate.policies.schema import load_policy
from cogate.proxy.surfaces import exchange_for

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def privacy(tmp_path_factory: pytest.TempPathFactory) -> Privacy:
    """The engine on the shipped default policy (the analyzer is built once per process)."""
    data = tmp_path_factory.mktemp("privacy-data")
    return Privacy(Settings(data_dir=data, upstream="https://api.openai.com/v1"))


@pytest.fixture(scope="session")
def detector(privacy: Privacy) -> Detector:
    return privacy.detector(privacy.policy)


@pytest.fixture
def make_privacy(tmp_path: Path) -> Callable[..., Privacy]:
    """An engine on a policy written from YAML text (shares the session's analyzer)."""

    def make(policy_yaml: str | None = None, **settings) -> Privacy:
        path = None
        if policy_yaml is not None:
            path = tmp_path / "policy.yaml"
            path.write_text(policy_yaml)
        settings.setdefault("upstream", "https://api.openai.com/v1")
        return Privacy(Settings(data_dir=tmp_path / "data", policy=path, **settings))

    return make


def exchange(route: str = "chat/completions", body: dict | None = None, **kw) -> Exchange:
    """An exchange as the gateway's ingress builds it for `/v1/{route}`."""
    return exchange_for(route, body or {}, **kw)


def chat(*messages: tuple[str, str], **extra) -> dict:
    return {
        "model": "gpt-4o",
        "messages": [{"role": r, "content": c} for r, c in messages],
        **extra,
    }


PSEUDONYMIZE_ALL = """
actions:
  default: pseudonymize
  CREDIT_CARD: pseudonymize
  SECRET: pseudonymize
"""


@pytest.fixture
def lenient(make_privacy) -> Privacy:
    """Every type pseudonymized (nothing blocked): for round-trip tests."""
    return make_privacy(PSEUDONYMIZE_ALL)


__all__ = ["FIXTURES", "chat", "exchange", "load_policy"]
