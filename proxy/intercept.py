"""`cogate intercept`: run mitmdump with cogate's addon for apps that cannot change their base URL.

mitmproxy lives in its own Python 3.12 environment (`make mitm`); this module finds it, prepares
the CA under the data dir, starts mitmdump and stops it cleanly.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from cogate.core.private_files import private_dir

from .intercept_secret import secret_path
from .options import build_settings

DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_HOSTS = ("api.openai.com",)
ADDON = Path(__file__).with_name("mitm_addon.py")
# Logged by the addon's `running` hook: one or the other.
READY_LINE = "cogate intercept: addon ready"
STARTUP_FAILED = "cogate intercept: addon cannot start"
CA_CERT = "mitmproxy-ca-cert.pem"
BUNDLE = "cogate-ca-bundle.pem"
MITM_INSTALL_HINT = (
    "mitmproxy 12 runs in its own Python 3.12 environment. In the cogate checkout run "
    "`make mitm` (creates .mitm-venv/bin/mitmdump), or `uv tool install mitmproxy==12.2.3`; "
    "then pass --mitmdump PATH or set COGATE_MITMDUMP if it is not found automatically."
)
# Lines mitmproxy prints when a script or an option fails; the proxy must not run without us.
_FATAL = re.compile(
    r"Addon error|Error loading script|Script error|OptionsError|No such script|"
    + re.escape(STARTUP_FAILED)
)


class InterceptError(Exception):
    """A problem `cogate intercept` reports and exits on (the message names the fix)."""


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def find_mitmdump(configured: str | os.PathLike[str] | None) -> Path:
    """The mitmdump to run: the configured one, else the checkout's .mitm-venv, else PATH."""
    if configured:
        path = Path(configured).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise InterceptError(
            f"mitmdump not found at {path} (from --mitmdump/COGATE_MITMDUMP). {MITM_INSTALL_HINT}"
        )
    candidates = [repo_root() / ".mitm-venv" / "bin" / "mitmdump"]
    on_path = shutil.which("mitmdump")
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise InterceptError(
        f"mitmdump not found (looked at {candidates[0]} and on PATH). {MITM_INSTALL_HINT}"
    )


def mitm_python(mitmdump: Path) -> Path:
    """The interpreter of mitmproxy's environment (the one mitmdump's script runs with)."""
    for name in ("python", "python3"):
        sibling = mitmdump.parent / name
        if sibling.is_file() and os.access(sibling, os.X_OK):
            return sibling
    try:
        first = mitmdump.read_bytes()[:512].split(b"\n", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        first = ""
    if first.startswith("#!") and "python" in first:
        return Path(shlex.split(first[2:])[0])
    raise InterceptError(f"cannot tell which Python runs {mitmdump}. {MITM_INSTALL_HINT}")


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{value!r}: use HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host, int(port)


def allow_pattern(host: str) -> str:
    """mitmproxy matches allow_hosts against `host:port`; only these hosts are decrypted."""
    return "^" + re.escape(host) + r"(:\d+)?$"


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def confdir(data_dir: Path) -> Path:
    return Path(data_dir) / "mitmproxy"


def ensure_ca(data_dir: Path, mitmdump: str | None) -> Path:
    """mitmproxy's CA under the data dir, created by mitmproxy's own code; key owner-only."""
    conf = ensure_dir(confdir(data_dir))
    cert = conf / CA_CERT
    if not cert.exists():
        python = mitm_python(find_mitmdump(mitmdump))
        code = (
            "import sys; from mitmproxy.certs import CertStore; "
            "CertStore.from_store(sys.argv[1], 'mitmproxy', 2048)"
        )
        done = subprocess.run(
            [str(python), "-c", code, str(conf)], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0 or not cert.exists():
            raise InterceptError(
                f"could not create the CA in {conf}: {done.stderr.strip()[-500:]}. "
                + MITM_INSTALL_HINT
            )
    for key in conf.glob("mitmproxy-ca*"):
        if key.name != CA_CERT and key.suffix in (".pem", ".p12"):
            os.chmod(key, 0o600)  # these hold the private key
    return cert


def system_roots() -> Path:
    """The machine's trusted roots, which SSL_CERT_FILE would otherwise replace."""
    paths = ssl.get_default_verify_paths()
    candidates = [
        paths.cafile,
        paths.openssl_cafile,
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ]
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:
        pass
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and Path(candidate).name != BUNDLE:
            return Path(candidate)
    raise InterceptError("no system CA bundle found; install your distribution's ca-certificates")


def write_bundle(data_dir: Path, ca_cert: Path) -> Path:
    """System roots plus the CA, for variables that replace the default roots (SSL_CERT_FILE)."""
    roots = system_roots().read_text(encoding="utf-8", errors="replace").rstrip("\n")
    text = f"{roots}\n\n# cogate intercept CA (mitmproxy)\n{ca_cert.read_text(encoding='ascii')}"
    conf = confdir(data_dir)
    target = conf / BUNDLE
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", dir=conf)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o644)  # public certificates only
    os.replace(tmp, target)
    return target


@dataclass(frozen=True)
class CaFiles:
    cert: Path
    bundle: Path

    def env(self, listen: str) -> dict[str, str]:
        return {
            "SSL_CERT_FILE": str(self.bundle),
            "REQUESTS_CA_BUNDLE": str(self.bundle),
            "NODE_EXTRA_CA_CERTS": str(self.cert),
            "CURL_CA_BUNDLE": str(self.bundle),
            "HTTPS_PROXY": f"http://{listen}",
        }

    def describe(self, listen: str, *, proxy_line: bool = True) -> str:
        env = self.env(listen)
        q = shlex.quote
        lines = [
            f"# CA certificate: {self.cert}",
            f"# CA bundle (system roots + the CA): {self.bundle}",
            "# Python (openai, httpx, requests): both replace the default roots: the bundle",
            f"export SSL_CERT_FILE={q(env['SSL_CERT_FILE'])}",
            f"export REQUESTS_CA_BUNDLE={q(env['REQUESTS_CA_BUNDLE'])}",
            "# Node: adds the CA to its built-in roots",
            f"export NODE_EXTRA_CA_CERTS={q(env['NODE_EXTRA_CA_CERTS'])}",
            f"# curl (or: curl --cacert {q(str(self.bundle))})",
            f"export CURL_CA_BUNDLE={q(env['CURL_CA_BUNDLE'])}",
        ]
        if proxy_line:
            lines += [
                "# the proxy itself (cogate intercept --listen)",
                f"export HTTPS_PROXY={q(env['HTTPS_PROXY'])}",
            ]
        return "\n".join(lines)


def prepare_ca(data_dir: Path, mitmdump: str | None) -> CaFiles:
    """The CA and a fresh bundle (rewritten each time, so updated system roots are picked up)."""
    cert = ensure_ca(data_dir, mitmdump)
    return CaFiles(cert=cert, bundle=write_bundle(data_dir, cert))


def mitmdump_command(
    mitmdump: Path,
    *,
    gateway: str,
    listen: tuple[str, int],
    data_dir: Path,
    hosts: tuple[str, ...],
    mode: str,
    app: str | None,
) -> list[str]:
    options = {
        "confdir": confdir(data_dir),
        # lazy: no connection to the real host when the app opens its tunnel.
        "connection_strategy": "lazy",
        "upstream_cert": "false",
        "cogate_gateway": gateway,
        "cogate_secret_file": secret_path(data_dir),
        # Quiet: no per-flow lines, only warnings (the addon's readiness line is one).
        "flow_detail": "0",
        "termlog_verbosity": "warn",
    }
    cmd = [str(mitmdump), "-s", str(ADDON), "--mode", mode]
    cmd += ["--listen-host", listen[0], "--listen-port", str(listen[1])]
    for name, value in options.items():
        cmd += ["--set", f"{name}={value}"]
    for host in hosts:
        # Only the LLM hosts are decrypted; everything else is tunnelled untouched.
        cmd += ["--allow-hosts", allow_pattern(host)]
        cmd += ["--set", f"cogate_hosts={host}"]
        # Second line of defence, built into mitmproxy: should the addon ever fail to redirect,
        # a request still addressed to an LLM host is answered 502 before any connection.
        cmd += ["--set", f"block_list=:~d ^{re.escape(host)}$:502"]
    if app:
        cmd += ["--set", f"cogate_app={app}"]
    return cmd


def _pump(stream: Any, ready: threading.Event, fatal: list[str]) -> None:
    for line in iter(stream.readline, ""):
        if READY_LINE in line:
            ready.set()
        elif not ready.is_set() and _FATAL.search(line):
            fatal.append(line.rstrip())
        sys.stderr.write(line)
        sys.stderr.flush()


def run_mitmdump(cmd: list[str], env: dict[str, str], ready_timeout: float = 60.0) -> int:
    """Run until mitmdump exits or we are told to stop (Ctrl-C, SIGTERM); then stop it cleanly."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,  # our signal handler decides how mitmdump stops
    )
    ready, fatal = threading.Event(), list[str]()
    reader = threading.Thread(target=_pump, args=(proc.stdout, ready, fatal), daemon=True)
    reader.start()

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        waited = 0.0
        while not ready.is_set() and proc.poll() is None and not fatal and waited < ready_timeout:
            ready.wait(0.1)
            waited += 0.1
        if fatal or not ready.is_set():
            why = (
                fatal[0]
                if fatal
                else (
                    f"mitmdump exited with {proc.returncode}"
                    if proc.poll() is not None
                    else f"the addon did not report ready within {ready_timeout:.0f}s"
                )
            )
            raise InterceptError(
                f"mitmdump did not start with cogate's addon ({why}); nothing is proxied"
            )
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _terminate(proc)
        reader.join(timeout=5)


def _terminate(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # mitmdump's own clean shutdown
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@click.group(invoke_without_command=True)
@click.option("--gateway", help="URL of `cogate serve` (default http://COGATE_HOST:COGATE_PORT).")
@click.option(
    "--listen", default=DEFAULT_LISTEN, show_default=True, help="HOST:PORT for the proxy."
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data dir `cogate serve` uses (holds the CA and the shared secret).",
)
@click.option(
    "--intercept-host",
    "hosts",
    multiple=True,
    help="Host whose API calls go to the gateway (repeatable; default api.openai.com).",
)
@click.option(
    "--mode",
    default="regular",
    show_default=True,
    help="mitmproxy mode: regular (HTTPS_PROXY), reverse:https://api.openai.com@443 "
    "(hosts-file entry), local:APP (capture a process; root).",
)
@click.option("--app", help="App name sent as x-cogate-app when the app sends none.")
@click.option("--mitmdump", envvar="COGATE_MITMDUMP", help="Path to mitmdump (default .mitm-venv).")
@click.pass_context
def intercept(
    ctx: click.Context,
    gateway: str | None,
    listen: str,
    data_dir: Path | None,
    hosts: tuple[str, ...],
    mode: str,
    app: str | None,
    mitmdump: str | None,
) -> None:
    """Route apps' LLM API calls through the gateway via mitmproxy; other traffic passes untouched.

    Start `cogate serve` with the same --data-dir, then point apps at the proxy with the lines
    `cogate intercept ca` prints (HTTPS_PROXY and the CA bundle). Runs until stopped.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = build_settings(data_dir=data_dir)
    listen_at = parse_listen(listen)
    if gateway is None:
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        gateway = f"http://{host}:{settings.port}"
    hosts = tuple(h.strip().lower() for h in hosts if h.strip()) or DEFAULT_HOSTS
    try:
        tool = find_mitmdump(mitmdump)
        private_dir(settings.data_dir)
        ca = prepare_ca(settings.data_dir, str(tool))
    except InterceptError as exc:
        raise click.ClickException(str(exc)) from None
    if not secret_path(settings.data_dir).exists():
        click.echo(
            f"note: no gateway secret in {settings.data_dir} yet; start `cogate serve --data-dir "
            f"{settings.data_dir}` or intercepted calls are refused",
            err=True,
        )
    cmd = mitmdump_command(
        tool,
        gateway=gateway,
        listen=listen_at,
        data_dir=settings.data_dir,
        hosts=hosts,
        mode=mode,
        app=app,
    )
    env = dict(os.environ)
    if settings.token is not None:
        env["COGATE_TOKEN"] = settings.token.get_secret_value()
    click.echo(f"cogate intercept: {', '.join(hosts)} -> {gateway}; proxy on {listen}", err=True)
    click.echo(ca.describe(listen, proxy_line=mode == "regular"), err=True)
    try:
        code = run_mitmdump(cmd, env)
    except InterceptError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)


@intercept.command("ca")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data dir `cogate serve` and `cogate intercept` use.",
)
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    help="The proxy's HOST:PORT, for the HTTPS_PROXY line.",
)
@click.option("--mitmdump", envvar="COGATE_MITMDUMP", help="Path to mitmdump (default .mitm-venv).")
@click.option("--json", "as_json", is_flag=True, help="Print paths and variables as JSON.")
def ca_command(data_dir: Path | None, listen: str, mitmdump: str | None, as_json: bool) -> None:
    """Print the CA certificate, a ready bundle (system roots + CA) and the variables to set.

    The output can be evaluated by a shell: eval "$(cogate intercept ca --data-dir DIR)".
    """
    import json

    parent = click.get_current_context().parent
    if data_dir is None and parent is not None:
        data_dir = parent.params.get("data_dir")  # `cogate intercept --data-dir D ca`
    settings = build_settings(data_dir=data_dir)
    parse_listen(listen)
    try:
        private_dir(settings.data_dir)
        files = prepare_ca(settings.data_dir, mitmdump)
    except InterceptError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(
            json.dumps(
                {"ca_cert": str(files.cert), "bundle": str(files.bundle), "env": files.env(listen)},
                indent=2,
            )
        )
    else:
        click.echo(files.describe(listen))
