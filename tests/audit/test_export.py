"""Exports verify offline; any single bit flipped anywhere in an export fails verification."""

from __future__ import annotations

import json
import stat

from cogate.audit import review
from cogate.audit.ledger import SQLiteLedger

from .helpers import CANARIES, all_files, cli, completion, egress, fill


def test_export_verifies_offline(cogate_home, tmp_path):
    fill(cogate_home, 5, every=3)
    out = tmp_path / "export"
    result = cli("export", "--data-dir", cogate_home, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoints.jsonl",
        "entries.jsonl",
        "manifest.json",
        "public-key.txt",
    ]
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = (out / "entries.jsonl").read_text().splitlines()
    assert len(lines) == 10 and json.loads(lines[0])["body"].startswith('{"model"')
    result = cli("verify", "--export", out)
    assert result.exit_code == 0, result.output
    assert "OK: 10 entries" in result.output


def test_export_of_a_tail_signs_it_first(cogate_home, tmp_path):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=100, background=False)
    ledger.append_egress(egress(1))
    ledger.close()
    ledger = SQLiteLedger(cogate_home, checkpoint_every=100, background=False)
    ledger.append_egress(egress(2))  # left unsigned by a crash-like exit (no close)
    ledger.store.close()
    cli("export", "--data-dir", cogate_home, "--out", tmp_path / "e")
    report = review.verify_export(tmp_path / "e")
    assert report.status == "ok" and report.unsigned_tail == 0 and report.size == 2


def test_bit_flip_sweep_never_verifies(cogate_home, tmp_path):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=2, background=False)
    first = ledger.append_egress(egress(1, entities={"EMAIL": 2}))
    ledger.append_completion(completion(first, 1))
    ledger.append_egress(egress(2, store_body=False))
    ledger.close()
    out = tmp_path / "export"
    cli("export", "--data-dir", cogate_home, "--out", out)
    assert review.verify_export(out).status == "ok"
    flips = 0
    for path in sorted(out.iterdir()):
        original = path.read_bytes()
        # Every byte of the small files; every third byte (all bit positions) of the entries,
        # which still hits every field of every line and keeps the test to a few seconds.
        stride = 1 if len(original) < 1500 else 3
        for offset in range(0, len(original), stride):
            data = bytearray(original)
            data[offset] ^= 1 << (offset * 3 % 8)
            path.write_bytes(bytes(data))
            report = review.verify_export(out)
            assert report.status != "ok", f"{path.name} byte {offset} flipped still verifies"
            flips += 1
        path.write_bytes(original)
    assert flips > 500
    assert review.verify_export(out).status == "ok"


def test_canaries_never_reach_any_file_of_the_data_dir(cogate_home, tmp_path):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=2, background=False)
    for i in range(6):
        removed = [("PERSON", CANARIES[0]), ("EMAIL", CANARIES[1]), ("PHONE", CANARIES[2])]
        audit_id = ledger.append_egress(egress(i, removed=removed))
        ledger.append_completion(completion(audit_id, i))
    # Scan while the writer is still open, so the WAL and shared-memory files are present.
    export_dir = cogate_home / "exports" / "e1"
    scanned = _scan(cogate_home)
    ledger.close()
    cli("export", "--data-dir", cogate_home, "--out", export_dir)
    cli("prune", "--data-dir", cogate_home, "--before", "2999-01-01")
    scanned += _scan(cogate_home)
    assert any(p.name.endswith("-wal") for p in scanned)
    assert any(p.parent == export_dir for p in scanned)


def _scan(root):
    files = all_files(root)
    needles = []
    for canary in CANARIES:
        raw = canary.encode()
        needles += [raw, raw.lower(), canary.encode("utf-16-le"), json.dumps(canary).encode()]
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"a canary value reached {path}"
    return files


def test_metadata_exports_as_jsonl_and_csv_with_filters(cogate_home, tmp_path):
    import csv

    from cogate.audit.ledger import SQLiteLedger

    from .helpers import egress

    ledger = SQLiteLedger(cogate_home, background=False)
    for i in range(3):
        ledger.append_egress(egress(i, removed=[("PERSON", CANARIES[0])]))
    ledger.append_egress(egress(3, kind="local", app="=cmd()"))
    ledger.close()

    out = tmp_path / "all.jsonl"
    result = cli("export", "--format", "jsonl", "--out", out, "--data-dir", cogate_home)
    assert result.exit_code == 0 and "exported 4 entries" in result.output, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]  # oldest first
    assert rows[0]["entities"] == "PERSON:1" and rows[0]["bytes"] > 0
    text = out.read_text()
    assert CANARIES[0] not in text and "hmac-sha256" not in text and "request 0" not in text

    sheet = tmp_path / "local.csv"
    args = ["--format", "csv", "--kind", "local", "--since", "2000-01-01"]
    assert cli("export", *args, "--out", sheet, "--data-dir", cogate_home).exit_code == 0
    table = list(csv.DictReader(sheet.open()))
    assert len(table) == 1 and table[0]["kind"] == "local"
    assert table[0]["app"] == "'=cmd()"  # never a formula in a spreadsheet
    none = tmp_path / "none.csv"
    later = ["--format", "csv", "--since", "2999-01-01", "--out", none]
    assert "exported 0 entries" in cli("export", *later, "--data-dir", cogate_home).output
    mixed = cli(
        "export", "--since", "2000-01-01", "--out", tmp_path / "d", "--data-dir", cogate_home
    )
    assert mixed.exit_code == 2 and "--format" in mixed.output
