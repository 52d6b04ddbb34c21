"""Policy files: every shipped and good fixture loads; every broken one names key, value, fix."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from cogate.policies.cli import policy as policy_cli
from cogate.policies.schema import PolicyError, load_policy, shipped_path

from .conftest import FIXTURES

GOOD = sorted((FIXTURES / "good").glob("*.yaml"))

# (fixture, text the error must contain: the key, the bad value, the fix)
BAD = [
    ("unknown_action", ["actions.PERSON", '"pseudonymise"', "pseudonymize"]),
    ("unknown_key", ["actionz", "remove it or check its spelling"]),
    ("bad_mode", ["`mode`", '"anonymize"', "redact"]),
    ("threshold", ["score_threshold", "1.5", "less than or equal to 1"]),
    ("custom_both", ["custom.0", "exactly one of `deny_list`"]),
    ("custom_regex", ["custom.0", "does not compile"]),
    ("route_empty", ["routes.0", "needs `mode` or `policy`"]),
    ("unscannable", ["unscannable", '"ignore"', "block"]),
    ("restore_url_hosts", ["restore.url_hosts", "not a host name", "*.example.com"]),
    ("markers", ["private_context.markers.0"]),
    ("not_mapping", ["must be a YAML mapping"]),
    ("yaml_syntax", ["not valid YAML", "line"]),
    ("type_iban", ["actions.IBAN", "unknown entity type", "use IBAN_CODE"]),
    ("type_typo", ["actions.PERSN", "use PERSON"]),
    ("type_threshold", ["thresholds.SSN", "use US_SSN"]),
    ("type_entities", ["`entities`", '"EMAIL"', "use EMAIL_ADDRESS"]),
]


@pytest.mark.parametrize("name", ["default", "strict", "example-routes"])
def test_shipped_policies_load(name: str) -> None:
    loaded = load_policy(shipped_path(name))
    assert loaded.name == name
    assert loaded.content_hash().startswith("sha256:")


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_fixtures_load(path) -> None:
    loaded = load_policy(path)
    assert loaded.actions["default"]
    result = CliRunner().invoke(policy_cli, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


@pytest.mark.parametrize(("name", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_fixtures_name_key_value_and_fix(name: str, expected: list[str]) -> None:
    path = FIXTURES / "bad" / f"{name}.yaml"
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    for part in expected:
        assert part in str(info.value)
    result = CliRunner().invoke(policy_cli, ["check", str(path)])
    assert result.exit_code == 2
    for part in expected:
        assert part in result.output


def test_a_file_lists_only_changes() -> None:
    minimal = load_policy(FIXTURES / "good" / "minimal.yaml")
    default = load_policy()
    assert minimal.actions == default.actions
    assert minimal.name == "minimal"
    custom = load_policy(FIXTURES / "good" / "custom.yaml")
    # Mappings merge key by key: the default's other actions stay.
    assert custom.action_for("PERSON") == "pseudonymize"
    assert custom.action_for("SECRET") == "block"
    assert custom.action_for("UNLISTED") == "mask"
    assert custom.private_context.headings == ["Secrets"]


def test_hash_follows_content() -> None:
    a = load_policy(FIXTURES / "good" / "minimal.yaml")
    b = load_policy(FIXTURES / "good" / "minimal.yaml")
    c = load_policy(FIXTURES / "good" / "custom.yaml")
    assert a.content_hash() == b.content_hash() != c.content_hash()


def test_missing_file_names_the_fix(tmp_path) -> None:
    with pytest.raises(PolicyError, match="no policy at .*cogate policy check"):
        load_policy(tmp_path / "nope.yaml")


def test_route_to_missing_policy_fails_check(tmp_path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes:\n  - match: {app: x}\n    policy: other.yaml\n")
    result = CliRunner().invoke(policy_cli, ["check", str(path)])
    assert result.exit_code == 2
    assert "routes.0.policy" in result.output
