"""Schema migrations: an append-only list, recorded in the database, migrated from the first."""

from __future__ import annotations

import sqlite3

from cogate.audit import migrations
from cogate.audit.ledger import SQLiteLedger
from cogate.audit.verify import OK

from .helpers import cli, egress


def test_names_are_unique_and_ordered():
    names = [fn.__name__ for fn in migrations.MIGRATIONS]
    assert names[0] == "m001_initial"
    assert len(set(names)) == len(names)
    assert names == sorted(names)


def test_migrates_forward_from_the_first_schema(tmp_path, cogate_home):
    # A ledger written by a build that only knew the first migration...
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    assert migrations.migrate(db, migrations.MIGRATIONS[:1]) == ["m001_initial"]
    columns = {r[1] for r in db.execute("PRAGMA table_xinfo(entries)")}
    assert "app" not in columns
    db.close()
    # ...moved into a data dir, then opened by the current code.
    audit_dir = cogate_home / "audit"
    audit_dir.mkdir(parents=True)
    path.rename(audit_dir / "ledger.sqlite3")
    ledger = SQLiteLedger(cogate_home, checkpoint_every=2, background=False)
    ledger.append_egress(egress(1, app="old-app"))
    ledger.close()

    db = sqlite3.connect(audit_dir / "ledger.sqlite3")
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [fn.__name__ for fn in migrations.MIGRATIONS]
    assert db.execute("SELECT app, host, kind FROM entries").fetchone() == (
        "old-app",
        "api.openai.com",
        "egress",
    )
    assert migrations.migrate(db) == []  # nothing left to apply
    db.close()
    result = cli("verify", "--data-dir", cogate_home)
    assert result.exit_code == 0, result.output
    assert OK.upper() in result.output


def test_every_migration_runs_on_an_empty_database(tmp_path):
    db = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    assert migrations.migrate(db) == [fn.__name__ for fn in migrations.MIGRATIONS]
