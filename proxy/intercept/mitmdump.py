"""mitmdump supervision for `cogate intercept`: find mitmproxy's own environment, build the
command line with cogate's addon, run it until it reports ready, and stop it cleanly.

mitmproxy lives in its own Python 3.12 environment (`make mitm`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from cogate.proxy.intercept.secret import secret_path

ADDON = Path(__file__).with_name("mitm_addon.py")
# Logged by the addon's `running` hook: one or the other.
READY_LINE = "cogate intercept: addon ready"
STARTUP_FAILED = "cogate intercept: addon cannot start"
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
    return Path(__file__).resolve().parents[2]


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


def allow_pattern(host: str) -> str:
    """mitmproxy matches allow_hosts against `host:port`; only these hosts are decrypted."""
    return "^" + re.escape(host) + r"(:\d+)?$"


def confdir(data_dir: Path) -> Path:
    return Path(data_dir) / "mitmproxy"


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
