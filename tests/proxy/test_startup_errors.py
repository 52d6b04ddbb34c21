"""`cogate serve` checks its settings and policy before anything heavy loads: one line per
error naming the setting, its value and the fix, exit code 2, no traceback; lists in
environment variables may be comma-separated and log levels spelt as operators do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cogate.core.settings import Settings
from cogate.core.settings_flags import SettingsInvalid, build_settings

COGATE = str(Path(sys.executable).parent / "cogate")


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COGATE_HOME": str(tmp_path / "home"), **env}
    for name in ("COGATE_POLICY", "COGATE_UPSTREAM", "COGATE_TOKEN"):
        if name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [COGATE, "serve", *args], capture_output=True, text=True, timeout=120, env=full_env
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for part in parts:
        assert part in lines[0], lines[0]


def test_missing_policy_exits_2_without_loading_models(tmp_path: Path) -> None:
    result = serve(tmp_path, "--policy", "missing.yaml")
    assert_one_line(result, "--policy missing.yaml", "no policy at", "cogate policy check")


def test_invalid_policy_names_each_key(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("actions:\n  IBAN: block\n")
    result = serve(tmp_path, "--policy", str(policy))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "actions.IBAN" in result.stderr and "IBAN_CODE" in result.stderr


def test_policy_from_the_environment_is_checked_too(tmp_path: Path) -> None:
    result = serve(tmp_path, COGATE_POLICY=str(tmp_path / "gone.yaml"))
    assert_one_line(result, "COGATE_POLICY=", "gone.yaml", "no policy at")


def test_bare_host_upstream_names_the_url_to_use(tmp_path: Path) -> None:
    result = serve(tmp_path, "--upstream", "api.openai.com")
    assert_one_line(result, "--upstream api.openai.com", "use https://api.openai.com/v1")


def test_port_not_a_number(tmp_path: Path) -> None:
    result = serve(tmp_path, COGATE_PORT="abc")
    assert_one_line(result, "COGATE_PORT=abc", "integer", "fix: use a whole number")


def test_unknown_log_level(tmp_path: Path) -> None:
    result = serve(tmp_path, COGATE_LOG_LEVEL="loud")
    assert_one_line(result, "COGATE_LOG_LEVEL=loud", "debug, info, warning, error, critical")


def test_several_errors_one_line_each(tmp_path: Path) -> None:
    result = serve(tmp_path, "--upstream", "ftp://x", COGATE_PORT="abc")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("cogate: ") for line in lines)


def test_checks_run_before_presidio_is_imported(tmp_path: Path) -> None:
    """The policy check must not wait for the detection stack (seconds of imports)."""
    code = (
        "import sys\n"
        "from cogate.proxy.cli import main\n"
        "try:\n"
        "    main(['serve', '--policy', 'missing.yaml'])\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, 'presidio_analyzer' in sys.modules, 'spacy' in sys.modules)\n"
    )
    env = {**os.environ, "COGATE_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.stdout.split() == ["2", "False", "False"], out.stderr


@pytest.mark.parametrize(
    ("spelling", "level"),
    [("warn", "warning"), ("WARNING", "warning"), ("Info", "info"), ("fatal", "critical")],
)
def test_log_level_spellings(monkeypatch: pytest.MonkeyPatch, spelling: str, level: str) -> None:
    monkeypatch.setenv("COGATE_LOG_LEVEL", spelling)
    assert Settings().log_level == level


def test_comma_separated_lists_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGATE_PUBLIC_HOSTS", "gw.example.com")
    monkeypatch.setenv("COGATE_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv(
        "COGATE_INTERCEPT_UPSTREAMS", "api.openai.com=http://127.0.0.1:9/v1,x.test=http://h/v1"
    )
    settings = Settings()
    assert settings.public_hosts == ["gw.example.com"]
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.intercept_upstreams == {
        "api.openai.com": "http://127.0.0.1:9/v1",
        "x.test": "http://h/v1",
    }


def test_json_lists_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGATE_PUBLIC_HOSTS", '["a.example", "b.example"]')
    assert Settings().public_hosts == ["a.example", "b.example"]


def test_a_bad_mapping_item_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGATE_INTERCEPT_UPSTREAMS", "api.openai.com")
    with pytest.raises(SettingsInvalid) as info:
        build_settings()
    assert info.value.exit_code == 2
    assert "COGATE_INTERCEPT_UPSTREAMS" in info.value.message
    assert "KEY=VALUE" in info.value.message
    assert "\n" not in info.value.message


def test_secrets_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGATE_DATABASE_URL", "mysql://user:hunter2@db/x")
    with pytest.raises(SettingsInvalid) as info:
        build_settings()
    assert "hunter2" not in info.value.message
    assert "COGATE_DATABASE_URL" in info.value.message


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "list"]])
def test_audit_commands_report_a_bad_variable_in_one_line(tmp_path: Path, command) -> None:
    env = {**os.environ, "COGATE_HOME": str(tmp_path / "home"), "COGATE_PORT": "abc"}
    result = subprocess.run([COGATE, *command], capture_output=True, text=True, env=env)
    assert_one_line(result, "COGATE_PORT=abc", "fix: use a whole number")
    assert "pydantic" not in result.stderr
