"""Writing a policy: `policy test` with app, model, host and surface shows the route that
applied and exits 1 when the request would be refused; `policy show [--effective]`."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from cogate.policies.cli import policy as policy_cli

ROUTES = """
routes:
  - name: billing-bot
    match: {app: billing}
    policy: pci
  - name: small-models-local
    match: {model: "smol*"}
    mode: local
  - name: anthropic-strict
    match: {host: api.anthropic.com}
    policy: strict
"""


def run(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(policy_cli, ["test", *args, "--json"])
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else {}


def test_routes_by_app_model_host_and_surface(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES)
    code, out = run("--policy", str(path), "--app", "billing", "Expiry 09/27 for Jane")
    assert (code, out["route"], out["blocked"]) == (1, "billing-bot", ["CARD_EXPIRY"])
    code, out = run("--policy", str(path), "--model", "smollm2", "Hi")
    assert (code, out["route"], out["mode"]) == (0, "small-models-local", "local")
    code, out = run("--policy", str(path), "--surface", "anthropic", "Hi")
    assert out["route"] == "anthropic-strict" and out["policy"] == "routes/anthropic-strict"
    code, out = run("--policy", str(path), "--host", "api.anthropic.com", "Hi")
    assert out["route"] == "anthropic-strict"
    code, out = run("--policy", str(path), "--app", "other", "Mail jane@example.com")
    assert (code, out["route"], out["refused"]) == (0, None, False)


def test_exit_1_when_refused_and_human_output_names_the_route(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES)
    result = CliRunner().invoke(
        policy_cli, ["test", "--policy", str(path), "--app", "billing", "CVV 737 please"]
    )
    assert result.exit_code == 1
    assert "route: billing-bot" in result.output
    assert "the request would be refused: CARD_CVV blocked" in result.output


def test_mode_block_is_a_refusal(tmp_path: Path) -> None:
    path = tmp_path / "block.yaml"
    path.write_text("mode: block\n")
    code, out = run("--policy", str(path), "nothing private")
    assert code == 1 and out["refused"] is True


def test_show_prints_the_file_and_the_effective_policy(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("actions:\n  PERSON: mask\n")
    own = CliRunner().invoke(policy_cli, ["show", "--policy", str(path)])
    assert own.exit_code == 0
    assert yaml.safe_load(own.output) == {"actions": {"PERSON": "mask"}}
    merged = CliRunner().invoke(policy_cli, ["show", "--policy", str(path), "--effective"])
    data = yaml.safe_load(merged.output)
    assert data["actions"]["PERSON"] == "mask"
    assert data["actions"]["CREDIT_CARD"] == "block"  # from the shipped default
    assert data["name"] == "mine" and "private_context" in data
    assert merged.output.startswith("# policy mine (sha256:")


def test_show_a_shipped_preset_and_a_broken_file(tmp_path: Path) -> None:
    shown = CliRunner().invoke(policy_cli, ["show", "--policy", "hipaa", "--effective"])
    assert yaml.safe_load(shown.output)["standard"] == "hipaa"
    path = tmp_path / "bad.yaml"
    path.write_text("actions:\n  IBAN: block\n")
    bad = CliRunner().invoke(policy_cli, ["show", "--policy", str(path)])
    assert bad.exit_code == 2 and "IBAN_CODE" in bad.output


def test_deny_list_file_is_read_beside_the_policy(tmp_path: Path) -> None:
    (tmp_path / "customers.txt").write_text("# customers\nNorthwind Traders\n\nBluebird Ventures\n")
    path = tmp_path / "p.yaml"
    path.write_text(
        "custom:\n  - name: customers\n    entity: CUSTOMER\n    deny_list_file: customers.txt\n"
        "allow_list: [Acme Cloud]\n"
    )
    code, out = run("--policy", str(path), "Northwind Traders on Acme Cloud")
    assert code == 0
    assert out["sanitized"] == "[CUSTOMER_1] on Acme Cloud"
    before = CliRunner().invoke(policy_cli, ["check", str(path)]).output
    (tmp_path / "customers.txt").write_text("Northwind Traders\nContoso\n")
    after = CliRunner().invoke(policy_cli, ["check", str(path)]).output
    assert before.split("sha256:")[1] != after.split("sha256:")[1]  # the words are content


def test_a_missing_deny_list_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("custom:\n  - name: c\n    entity: CUSTOMER\n    deny_list_file: nope.txt\n")
    result = CliRunner().invoke(policy_cli, ["check", str(path)])
    assert result.exit_code == 2
    assert "custom.0.deny_list_file" in result.output and "nope.txt" in result.output
