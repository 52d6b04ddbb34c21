"""The shared secret: owner-only, rotated, compared in constant time; hints add no upstreams."""

from __future__ import annotations

import ast
import stat
from pathlib import Path

import click
import pytest
from cogate.core.settings import Settings
from cogate.proxy.intercept import secret as secret_mod
from cogate.proxy.intercept.secret import (
    DESTINATION_HEADER,
    SECRET_HEADER,
    InterceptRefused,
    destination_hint,
    parse_intercept_upstreams,
    read_secret,
    rotate_secret,
    secret_matches,
)

ADDON = Path(__file__).resolve().parents[2] / "proxy" / "intercept" / "mitm_addon.py"


def settings(data_dir: Path, **extra) -> Settings:
    return Settings(data_dir=data_dir, **extra)


def test_rotate_writes_an_owner_only_secret_and_changes_it(tmp_path: Path):
    path = rotate_secret(tmp_path / "data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = read_secret(tmp_path / "data")
    assert first and len(first) >= 40
    rotate_secret(tmp_path / "data")
    assert read_secret(tmp_path / "data") != first
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["intercept-secret"]  # no temp left


def test_a_secret_readable_by_others_is_not_trusted(tmp_path: Path):
    path = rotate_secret(tmp_path)
    sent = read_secret(tmp_path)
    path.chmod(0o644)
    assert read_secret(tmp_path) is None
    assert not secret_matches(tmp_path, sent)


def test_secret_matches_uses_the_current_file(tmp_path: Path):
    assert not secret_matches(tmp_path, "anything")  # no gateway ever started here
    rotate_secret(tmp_path)
    current = read_secret(tmp_path)
    assert secret_matches(tmp_path, current)
    assert not secret_matches(tmp_path, "")
    assert not secret_matches(tmp_path, current[:-1])


def test_compare_is_constant_time(monkeypatch, tmp_path: Path):
    rotate_secret(tmp_path)
    calls = []
    real = secret_mod.hmac.compare_digest
    monkeypatch.setattr(
        secret_mod.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b)
    )
    secret_matches(tmp_path, "x")
    assert calls


def test_no_hint_is_a_direct_request(tmp_path: Path):
    assert destination_hint(settings(tmp_path), {}) is None


def test_hint_with_the_secret_names_the_host(tmp_path: Path):
    rotate_secret(tmp_path)
    headers = {DESTINATION_HEADER: "API.openai.com.", SECRET_HEADER: read_secret(tmp_path)}
    assert destination_hint(settings(tmp_path), headers) == "api.openai.com"


@pytest.mark.parametrize("sent", [None, "", "wrong"])
def test_hint_without_the_secret_is_refused(tmp_path: Path, sent):
    rotate_secret(tmp_path)
    headers = {DESTINATION_HEADER: "api.openai.com"}
    if sent is not None:
        headers[SECRET_HEADER] = sent
    with pytest.raises(InterceptRefused) as info:
        destination_hint(settings(tmp_path), headers)
    assert info.value.status == 403
    assert "cogate intercept" in info.value.message


def test_stale_secret_after_rotation_is_refused(tmp_path: Path):
    rotate_secret(tmp_path)
    old = read_secret(tmp_path)
    rotate_secret(tmp_path)  # the gateway restarted
    with pytest.raises(InterceptRefused):
        destination_hint(
            settings(tmp_path), {DESTINATION_HEADER: "api.openai.com", SECRET_HEADER: old}
        )


@pytest.mark.parametrize("host", ["http://evil.example/", "evil.example/v1", "a b", "x" * 300])
def test_hint_must_be_a_host_name(tmp_path: Path, host):
    rotate_secret(tmp_path)
    with pytest.raises(InterceptRefused):
        destination_hint(
            settings(tmp_path), {DESTINATION_HEADER: host, SECRET_HEADER: read_secret(tmp_path)}
        )


def test_unmapped_host_is_refused_once_hosts_are_mapped(tmp_path: Path):
    rotate_secret(tmp_path)
    s = settings(tmp_path, intercept_upstreams={"api.mistral.ai": "https://api.mistral.ai/v1"})
    key = read_secret(tmp_path)
    assert (
        destination_hint(s, {DESTINATION_HEADER: "api.mistral.ai", SECRET_HEADER: key})
        == "api.mistral.ai"
    )
    assert (
        destination_hint(s, {DESTINATION_HEADER: "api.openai.com", SECRET_HEADER: key})
        == "api.openai.com"
    )
    with pytest.raises(InterceptRefused, match="--intercept-upstream evil.example="):
        destination_hint(s, {DESTINATION_HEADER: "evil.example", SECRET_HEADER: key})


def test_the_hint_only_chooses_among_configured_upstreams(tmp_path: Path):
    s = settings(
        tmp_path,
        upstream="http://127.0.0.1:9/v1",
        intercept_upstreams={"api.mistral.ai": "https://api.mistral.ai/v1/"},
    )
    assert s.upstream_for("api.mistral.ai") == "https://api.mistral.ai/v1"
    assert s.upstream_for("api.openai.com") == "http://127.0.0.1:9/v1"
    assert s.upstream_for(None) == "http://127.0.0.1:9/v1"


def test_parse_intercept_upstreams():
    assert parse_intercept_upstreams(None, None, ()) is None
    assert parse_intercept_upstreams(
        None, None, ("API.openai.com=http://127.0.0.1:8080/v1/", "x.example=https://x.example/v1")
    ) == {"api.openai.com": "http://127.0.0.1:8080/v1", "x.example": "https://x.example/v1"}
    for bad in ("api.openai.com", "api.openai.com=ftp://x", "=http://x", "a b=http://x"):
        with pytest.raises(click.BadParameter):
            parse_intercept_upstreams(None, None, (bad,))


def _addon_constants() -> dict[str, object]:
    tree = ast.parse(ADDON.read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant | ast.Tuple):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = ast.literal_eval(node.value)
    return found


def test_addon_and_gateway_agree_on_names():
    from cogate.proxy.intercept import cli as intercept
    from cogate.proxy.intercept import mitmdump as intercept_mitmdump

    constants = _addon_constants()
    assert constants["DESTINATION_HEADER"] == DESTINATION_HEADER
    assert constants["SECRET_HEADER"] == SECRET_HEADER
    assert constants["READY_LINE"] == intercept_mitmdump.READY_LINE
    assert constants["STARTUP_FAILED"] == intercept_mitmdump.STARTUP_FAILED
    assert constants["DEFAULT_HOSTS"] == intercept.DEFAULT_HOSTS


def test_addon_imports_only_mitmproxy_and_the_standard_library():
    import sys

    tree = ast.parse(ADDON.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots - {"mitmproxy"} <= set(sys.stdlib_module_names), roots
