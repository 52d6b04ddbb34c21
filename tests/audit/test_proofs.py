"""Proofs for a third party: inclusion and consistency, checked offline with the public key
alone, by `cogate audit verify-proof` and by the twenty lines in docs/PROOFS.md."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cogate.audit.compliance import proofs
from cogate.audit.ledger import SQLiteLedger

from .helpers import cli, completion, egress, fill

DOC = Path(__file__).resolve().parents[2] / "docs" / "PROOFS.md"


def independent_verifier() -> str:
    """The verifier of docs/PROOFS.md, as a reader would copy it."""
    code = re.search(r"## Twenty lines of your own.*?```python\n(.*?)```", DOC.read_text(), re.S)
    assert code is not None
    return code.group(1)


def run_independent(proof: Path) -> subprocess.CompletedProcess:
    code = independent_verifier()
    assert "cogate" not in code
    # -I: isolated mode, no user site, the working directory not on the path.
    return subprocess.run(
        [sys.executable, "-I", "-c", code, str(proof)],
        capture_output=True,
        text=True,
        cwd=proof.parent,
        check=False,
    )


def test_the_documented_verifier_is_about_twenty_lines():
    lines = [line for line in independent_verifier().splitlines() if line.strip()]
    assert len(lines) <= 25


@pytest.mark.parametrize("entry", [1, 7, 13])
def test_an_inclusion_proof_checks_offline_and_independently(cogate_home, tmp_path, entry):
    fill(cogate_home, 7, every=5)  # 14 entries, checkpoints at 5, 10 and 14
    out = tmp_path / "proof.json"
    made = cli("prove", str(entry), "--out", out, "--data-dir", cogate_home)
    assert made.exit_code == 0, made.output
    doc = json.loads(out.read_text())
    assert doc["tree_size"] == 14 and doc["leaf_index"] == entry - 1

    # No data dir at all: the proof file alone.
    other = tmp_path / "elsewhere"
    other.mkdir()
    moved = other / "p.json"
    moved.write_bytes(out.read_bytes())
    checked = cli("verify-proof", moved)
    assert checked.exit_code == 0 and checked.output.startswith("VALID"), checked.output

    independent = run_independent(moved)
    assert independent.returncode == 0, independent.stderr
    assert f"entry {entry} is in the tree signed at size 14" in independent.stdout

    pub = (cogate_home / "keys" / "audit-signing.pub").read_text().strip()
    assert cli("verify-proof", moved, "--public-key", pub).exit_code == 0
    other_key = "ed25519:" + "11" * 32
    assert cli("verify-proof", moved, "--public-key", other_key).exit_code == 1


def test_a_proof_signs_a_checkpoint_when_none_covers_the_entry(cogate_home, tmp_path):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=100, background=False)
    for i in range(3):
        ledger.append_egress(egress(i))
    ledger.store.close()  # a gateway killed before any checkpoint
    assert cli("prove", "3", "--out", tmp_path / "p.json", "--data-dir", cogate_home).exit_code == 0
    assert cli("verify-proof", tmp_path / "p.json").exit_code == 0


def test_every_single_byte_changed_breaks_the_proof(cogate_home, tmp_path):
    fill(cogate_home, 5, every=4)
    out = tmp_path / "proof.json"
    assert cli("prove", "6", "--out", out, "--data-dir", cogate_home).exit_code == 0
    data = out.read_bytes()
    assert proofs.check(json.loads(data))[0]
    for i, byte in enumerate(data):
        if byte in b" \n":
            continue  # JSON layout, not content
        changed = data[:i] + (b"y" if byte == ord("x") else b"x") + data[i + 1 :]
        try:
            valid, _ = proofs.check(json.loads(changed))
        except (ValueError, proofs.Malformed):
            continue
        assert not valid, f"byte {i} ({chr(byte)!r}) changed and the proof still holds"

    # One hex digit of the leaf hash: well-formed, so invalid (1) for both verifiers.
    doc = json.loads(data)
    digit = doc["leaf_hash"][-1]
    doc["leaf_hash"] = doc["leaf_hash"][:-1] + ("0" if digit != "0" else "1")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, indent=2))
    assert cli("verify-proof", bad).exit_code == 1
    assert run_independent(bad).returncode != 0
    # A changed signature or time: the checkpoint no longer verifies.
    doc = json.loads(data)
    doc["checkpoint"]["time"] = doc["checkpoint"]["time"].replace("Z", "0Z")
    bad.write_text(json.dumps(doc))
    assert cli("verify-proof", bad).exit_code == 1
    assert run_independent(bad).returncode != 0


def test_malformed_files_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    for text in [
        "not json",
        "[]",
        '{"format": "something-else/1"}',
        '{"format": "cogate-inclusion-proof/1"}',
    ]:
        bad.write_text(text)
        result = cli("verify-proof", bad)
        assert result.exit_code == 2 and result.output.startswith("MALFORMED"), text
    assert cli("verify-proof", tmp_path / "missing.json").exit_code == 2


def test_consistency_across_a_prune(cogate_home, tmp_path):
    ledger = SQLiteLedger(cogate_home, checkpoint_every=4, background=False)
    for i in range(4):
        ledger.append_completion(completion(ledger.append_egress(egress(i)), i))
    ledger.close()  # checkpoints at 4 and 8
    pruned = cli("prune", "--before", "2999-01-01", "--data-dir", cogate_home)
    assert "dropped 4 stored bodies" in pruned.output  # entry 9 records it, signed at 9
    ledger = SQLiteLedger(cogate_home, checkpoint_every=4, background=False)
    for i in range(4, 6):
        ledger.append_egress(egress(i))
    ledger.close()  # checkpoint at 11

    out = tmp_path / "growth.json"
    made = cli("consistency", "4", "11", "--out", out, "--data-dir", cogate_home)
    assert made.exit_code == 0, made.output
    result = cli("verify-proof", out)
    assert result.exit_code == 0 and "extends" in result.output, result.output
    # An entry whose body was pruned still proves its inclusion.
    assert (
        cli("prove", "1", "--out", tmp_path / "one.json", "--data-dir", cogate_home).exit_code == 0
    )
    assert run_independent(tmp_path / "one.json").returncode == 0

    doc = json.loads(out.read_text())
    doc["proof"][0] = "sha256:" + "0" * 64
    out.write_text(json.dumps(doc))
    assert cli("verify-proof", out).exit_code == 1
    unsigned = cli("consistency", "3", "11", "--out", out, "--data-dir", cogate_home)
    assert unsigned.exit_code == 2 and "signed sizes: 4, 8, 9, 11" in unsigned.output
