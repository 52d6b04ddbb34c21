"""Which modes a policy selects decides whether serve may start without a local model."""

from __future__ import annotations

from pathlib import Path

from cogate.proxy.local_gate import LOCAL_MODES, policy_modes


def test_the_default_policy_selects_no_local_mode() -> None:
    assert policy_modes(None) & LOCAL_MODES == set()


def test_modes_come_from_the_policy_its_routes_and_the_policies_they_name(
    tmp_path: Path,
) -> None:
    (tmp_path / "private.yaml").write_text("mode: logits\n")
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "mode: redact\n"
        "routes:\n"
        "  - match: {app: notes}\n    mode: block\n"
        "  - match: {app: diary}\n    policy: private.yaml\n"
    )
    assert policy_modes(policy) == {"redact", "block", "logits"}
