"""Every `cogate audit …` command reads the replicas' database, from `--database-url` or
COGATE_DATABASE_URL; `audit verify` on PostgreSQL exits 0 intact, 1 tampered, 2 cannot verify,
run as an operator runs it (the installed `cogate`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from cogate.audit.cli import audit

from .test_pg_ledger import fill

BIN = Path(sys.executable).parent


def cogate(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COGATE_DATABASE_URL"}
    if url is not None:
        env["COGATE_DATABASE_URL"] = url
    return subprocess.run([str(BIN / "cogate"), *args], capture_output=True, text=True, env=env)


# verify-proof reads only a proof file, offline, with no data dir or database (issue 29).
@pytest.mark.parametrize("command", sorted(set(audit.commands) - {"verify-proof"}))
def test_every_audit_command_takes_the_database(command):
    shown = CliRunner().invoke(audit, [command, "--help"])
    assert shown.exit_code == 0 and "--database-url" in shown.output
    assert "COGATE_DATABASE_URL" in shown.output


def test_verify_exit_codes_on_postgres(database_url, tmp_path):
    data = tmp_path / "data"
    fill(database_url, data, 5)
    # 0: intact, with the URL from the environment only.
    ok = cogate("audit", "verify", "--data-dir", str(data), url=database_url)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 10 entries"), ok.stdout + ok.stderr
    # 2: a replica's data dir without the shared keys/ cannot check signatures.
    keyless = cogate("audit", "verify", "--data-dir", str(tmp_path / "other"), url=database_url)
    assert keyless.returncode == 2 and "no signing key" in keyless.stdout
    # 1: an edited row.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE entries SET hash = %s WHERE seq = 4", ("sha256:" + "0" * 64,))
    bad = cogate(
        "audit", "verify", "--json", "--data-dir", str(data), "--database-url", database_url
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert json.loads(bad.stdout)["first_bad"] == 4


def test_verify_cannot_verify_an_empty_or_missing_database(postgres, database_url, tmp_path):
    data = str(tmp_path / "data")
    empty = cogate("audit", "verify", "--data-dir", data, "--database-url", database_url)
    assert empty.returncode == 2 and "no cogate ledger" in empty.stdout
    host_port = postgres.split("@", 1)[1].split("/", 1)[0]
    missing = f"postgresql://postgres:s3cret-pw@{host_port}/no_such_database"
    gone = cogate("audit", "verify", "--data-dir", data, url=missing)
    assert gone.returncode == 2, gone.stdout + gone.stderr
    assert "s3cret-pw" not in gone.stdout + gone.stderr


def test_path_and_export_read_the_database(database_url, tmp_path):
    data = tmp_path / "data"
    fill(database_url, data, 3)
    with_password = database_url.replace("postgres@", "postgres:pw-9917@", 1)
    where = cogate("audit", "path", "--data-dir", str(data), url=with_password)
    assert where.returncode == 0 and "database      postgresql://postgres:***@" in where.stdout
    assert "pw-9917" not in where.stdout
    out = tmp_path / "export"
    exported = cogate(
        "audit", "export", "--data-dir", str(data), "--out", str(out), url=database_url
    )
    assert exported.returncode == 0 and "exported 6 entries" in exported.stdout, exported.stderr
    offline = cogate("audit", "verify", "--export", str(out))
    assert offline.returncode == 0 and offline.stdout.startswith("OK: 6 entries")
