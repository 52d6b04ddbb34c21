"""Clean CLI errors: a busy port, a missing data dir, a wrong database URL give one line that
names the fix, never a traceback; every timing `audit show` prints has its unit."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from .helpers import cli, fill

BIN = Path(sys.executable).parent


def held_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def test_a_busy_port_is_one_line(cogate_home, tmp_path):
    fill(cogate_home, 1)
    sock, port = held_port()
    try:
        review = cli("serve", "--data-dir", cogate_home, "--port", str(port))
        gateway = subprocess.run(
            [str(BIN / "cogate"), "serve", "--port", str(port), "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        sock.close()
    assert review.exit_code == 2 and "Traceback" not in review.output
    assert review.output.count("\n") == 1 and "pass another --port" in review.output
    assert gateway.returncode == 2 and "Traceback" not in gateway.stderr
    assert gateway.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in gateway.stderr


def test_a_missing_data_dir_is_one_line(tmp_path):
    for command in (["list"], ["show", "1"], ["serve", "--port", "0"], ["find", "--value", "x"]):
        result = cli(*command, "--data-dir", tmp_path / "nowhere")
        assert result.exit_code == 2 and "Traceback" not in result.output, command
        assert result.output.count("\n") == 1 and "--data-dir" in result.output, command


def test_a_wrong_database_url_names_the_fix(cogate_home):
    scheme = cli("list", "--database-url", "mysql://u@h/db")
    assert scheme.exit_code == 2 and "postgresql://" in scheme.output
    closed = cli("list", "--database-url", "postgresql://u:s3cret@127.0.0.1:1/db")
    assert closed.exit_code == 2 and "Traceback" not in closed.output
    assert "check that PostgreSQL runs there" in closed.output and "s3cret" not in closed.output


def test_every_timing_in_show_has_its_unit(cogate_home):
    fill(cogate_home, 1)
    shown = cli("show", "1", "--data-dir", cogate_home).output
    line = next(x for x in shown.splitlines() if x.startswith("timings"))
    assert line.split(None, 1)[1] == "total=20.25 ms, upstream=12.5 ms"
