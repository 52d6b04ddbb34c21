"""The policy reloader on the real engine: a valid file applies, an invalid one is logged and
the old policy stays, a shipped name is not watched."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from cogate.core.settings import Settings
from cogate.policies import Privacy
from cogate.proxy.reload import PolicyReloader


def test_valid_applies_invalid_keeps(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("mode: redact\n")
    privacy = Privacy(Settings(data_dir=tmp_path / "data", policy=path))
    first = privacy.policy.content_hash()

    async def scenario() -> tuple[bool, bool, int]:
        reloader = PolicyReloader(privacy, path, interval=0.05)
        watch = asyncio.create_task(reloader.watch())
        path.write_text("actions:\n  EMAIL_ADDRESS: block\n")
        for _ in range(400):
            await asyncio.sleep(0.05)
            if reloader.reloads:
                break
        applied = privacy.policy.action_for("EMAIL_ADDRESS") == "block"
        path.write_text("actions:\n  EMAIL: block\n  default: mask\n")
        for _ in range(400):
            await asyncio.sleep(0.05)
            if reloader.failures:
                break
        kept = privacy.policy.action_for("EMAIL_ADDRESS") == "block"
        watch.cancel()
        return applied, kept, reloader.failures

    with caplog.at_level(logging.INFO, logger="cogate.policy"):
        applied, kept, failures = asyncio.run(scenario())
    assert applied and kept and failures == 1
    assert privacy.policy.content_hash() != first
    assert "policy reloaded (file changed)" in caplog.text
    assert "policy reload (file changed) failed; keeping sha256:" in caplog.text
    assert "actions.EMAIL" in caplog.text and "EMAIL_ADDRESS" in caplog.text


def test_a_shipped_name_is_reloaded_on_request_only(tmp_path: Path) -> None:
    privacy = Privacy(Settings(data_dir=tmp_path / "data", policy=Path("hipaa")))
    reloader = PolicyReloader(privacy, Path("hipaa"))
    assert reloader.path is None
    assert asyncio.run(reloader.reload("SIGHUP")) is True
    assert privacy.policy.name == "hipaa"
