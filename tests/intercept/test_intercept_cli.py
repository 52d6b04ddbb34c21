"""`cogate intercept` and `cogate intercept ca`: finding mitmdump, the CA, the command it runs."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cogate.proxy.intercept import mitmdump as intercept_mitmdump
from cogate.proxy.intercept.cli import intercept, parse_listen
from cogate.proxy.intercept.mitmdump import InterceptError, find_mitmdump, mitmdump_command

REPO = Path(__file__).resolve().parents[2]
MITMDUMP = REPO / ".mitm-venv" / "bin" / "mitmdump"
needs_mitm = pytest.mark.skipif(not MITMDUMP.exists(), reason="run `make mitm` first")


def test_missing_mitmdump_says_how_to_install(tmp_path: Path):
    with pytest.raises(InterceptError, match="make mitm"):
        find_mitmdump(tmp_path / "nowhere" / "mitmdump")
    result = CliRunner().invoke(
        intercept, ["--data-dir", str(tmp_path), "--mitmdump", str(tmp_path / "none")]
    )
    assert result.exit_code != 0
    assert "make mitm" in result.output and "uv tool install mitmproxy==12.2.3" in result.output


def test_missing_mitmdump_from_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("COGATE_MITMDUMP", str(tmp_path / "none"))
    result = CliRunner().invoke(intercept, ["ca", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code != 0 and "COGATE_MITMDUMP" in result.output


@needs_mitm
def test_finds_the_checkouts_mitm_venv():
    assert find_mitmdump(None) == MITMDUMP


def test_mitmdump_command_is_fail_closed(tmp_path: Path):
    cmd = mitmdump_command(
        Path("/x/mitmdump"),
        gateway="http://127.0.0.1:8787",
        listen=("127.0.0.1", 8080),
        data_dir=tmp_path,
        hosts=("api.openai.com", "api.mistral.ai"),
        mode="regular",
        app=None,
    )
    joined = " ".join(cmd)
    assert (
        cmd[cmd.index("-s") + 1] == str(intercept_mitmdump.ADDON)
        and intercept_mitmdump.ADDON.exists()
    )
    assert "connection_strategy=lazy" in cmd
    assert f"confdir={tmp_path / 'mitmproxy'}" in cmd
    assert f"cogate_secret_file={tmp_path / 'intercept-secret'}" in cmd
    allowed = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--allow-hosts"]
    assert allowed == [r"^api\.openai\.com(:\d+)?$", r"^api\.mistral\.ai(:\d+)?$"]
    assert any(re.search(allowed[0], probe) for probe in ["api.openai.com:443"])
    assert not any(re.search(p, "example.com:443") for p in allowed)
    assert r"block_list=:~d ^api\.openai\.com$:502" in cmd
    assert "--listen-host 127.0.0.1 --listen-port 8080" in joined


@pytest.mark.parametrize("value", ["8080", "localhost", "127.0.0.1:0", "127.0.0.1:x"])
def test_listen_must_be_host_port(value):
    import click

    with pytest.raises(click.BadParameter):
        parse_listen(value)


@needs_mitm
@pytest.mark.mitm
def test_ca_prints_cert_bundle_and_env_lines(tmp_path: Path):
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(intercept, ["ca", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    conf = data_dir / "mitmproxy"
    cert, bundle = conf / "mitmproxy-ca-cert.pem", conf / "cogate-ca-bundle.pem"
    out = result.output
    assert str(cert) in out and str(bundle) in out
    for line in (
        f"export SSL_CERT_FILE={bundle}",
        f"export REQUESTS_CA_BUNDLE={bundle}",
        f"export NODE_EXTRA_CA_CERTS={cert}",
        f"export CURL_CA_BUNDLE={bundle}",
        "export HTTPS_PROXY=http://127.0.0.1:8080",
    ):
        assert line in out.splitlines()
    # The bundle replaces the default roots, so it must hold them as well as the CA.
    text = bundle.read_text()
    assert cert.read_text().strip() in text and text.count("BEGIN CERTIFICATE") > 10
    # The CA key is the owner's alone; the data dir too.
    assert stat.S_IMODE((conf / "mitmproxy-ca.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(conf.stat().st_mode) == 0o700
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    # The output is a valid shell script: eval "$(cogate intercept ca ...)".
    check = subprocess.run(["sh", "-n"], input=out, text=True, capture_output=True)
    assert check.returncode == 0, check.stderr
    # Running it again keeps the same CA (apps already trust it).
    again = CliRunner().invoke(intercept, ["ca", "--data-dir", str(data_dir), "--json"])
    assert json.loads(again.output)["ca_cert"] == str(cert)


@needs_mitm
@pytest.mark.mitm
def test_bundle_verifies_a_certificate_from_the_ca(tmp_path: Path):
    """A certificate mitmproxy mints with this CA verifies against the bundle (as SSL_CERT_FILE)."""
    data_dir = tmp_path / "data"
    files = json.loads(
        CliRunner().invoke(intercept, ["ca", "--data-dir", str(data_dir), "--json"]).output
    )
    code = (
        "import sys; from mitmproxy.certs import CertStore; "
        "s = CertStore.from_store(sys.argv[1], 'mitmproxy', 2048); "
        "from cryptography import x509; "
        "e = s.get_cert('api.openai.com', [x509.DNSName('api.openai.com')]); "
        "print(e.cert.to_pem().decode())"
    )
    leaf = subprocess.run(
        [str(MITMDUMP.parent / "python"), "-c", code, str(data_dir / "mitmproxy")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    leaf_path = tmp_path / "leaf.pem"
    leaf_path.write_text(leaf)
    verify = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from cryptography import x509; "
            "from cryptography.x509.verification import PolicyBuilder, Store; "
            "roots = x509.load_pem_x509_certificates(open(sys.argv[1], 'rb').read()); "
            "leaf = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read()); "
            "PolicyBuilder().store(Store(roots)).build_server_verifier("
            "x509.DNSName('api.openai.com')).verify(leaf, [])",
            files["bundle"],
            str(leaf_path),
        ],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr


@needs_mitm
@pytest.mark.mitm
def test_refuses_to_run_when_the_addon_cannot_start(tmp_path: Path):
    """An unsafe option makes the addon refuse; `cogate intercept` then stops mitmdump and fails."""
    # An intercepted host that mitmproxy would tunnel undecrypted, straight to the cloud.
    cmd = mitmdump_command(
        MITMDUMP,
        gateway="http://127.0.0.1:9",
        listen=("127.0.0.1", 0),
        data_dir=tmp_path,
        hosts=("api.openai.com",),
        mode="regular",
        app=None,
    ) + ["--ignore-hosts", "openai"]
    with pytest.raises(InterceptError, match="undecrypted"):
        intercept_mitmdump.run_mitmdump(cmd, env={"PATH": "/usr/bin:/bin"}, ready_timeout=120)
