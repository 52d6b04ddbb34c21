"""The entity-type vocabulary: one checked list, the names users guess refused with the right
one, custom types known, the table equal to what the registered recognizers produce."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from cogate.policies.cli import policy as policy_cli
from cogate.policies.schema import PolicyError, load_policy
from cogate.policies.vocabulary import TYPES, closest, known_types, unknown_type_errors


@pytest.mark.parametrize(
    ("guess", "right"),
    [
        ("IBAN", "IBAN_CODE"),
        ("SSN", "US_SSN"),
        ("EMAIL", "EMAIL_ADDRESS"),
        ("PHONE", "PHONE_NUMBER"),
        ("PERSN", "PERSON"),
        ("NAME", "PERSON"),
        ("CREDITCARD", "CREDIT_CARD"),
    ],
)
def test_a_guess_is_refused_naming_the_right_type(guess: str, right: str, tmp_path) -> None:
    assert guess not in known_types()  # never an alias
    assert closest(guess, known_types())[0] == right
    path = tmp_path / "p.yaml"
    path.write_text(f"actions:\n  {guess}: block\n")
    result = CliRunner().invoke(policy_cli, ["check", str(path)])
    assert result.exit_code == 2
    assert f"actions.{guess}" in result.output
    assert f"use {right}" in result.output


def test_every_error_is_one_line_per_type() -> None:
    errors = unknown_type_errors({"IBAN": 1, "SSN": 2, "PERSON": 3}, "actions", known_types())
    assert len(errors) == 2
    assert all("\n" not in line for line in errors)


def test_found_lists_are_checked_with_categories() -> None:
    known = known_types()
    assert (
        unknown_type_errors(
            ["PERSON", "health"], "routes.0.match.found", known, categories=["health"], listed=True
        )
        == []
    )
    [line] = unknown_type_errors(["IBAN"], "routes.0.match.found", known, listed=True)
    assert "routes.0.match.found" in line and "use IBAN_CODE" in line


def test_custom_types_are_known(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "custom:\n  - name: projects\n    entity: PROJECT_CODE\n    deny_list: [Bluebird]\n"
        "actions:\n  PROJECT_CODE: block\nthresholds:\n  PROJECT_CODE: 0.2\n"
    )
    assert load_policy(path).action_for("PROJECT_CODE") == "block"


def test_shipped_policies_name_known_types_only() -> None:
    for name in ("default", "strict", "example-routes"):
        load_policy(name)  # raises PolicyError on an unknown type


def test_table_equals_the_registered_recognizers_types() -> None:
    from cogate.policies.detect.types import registered_types

    live = set(registered_types())
    missing = live - set(TYPES)
    assert not missing, f"add a row to policies/vocabulary.py for {sorted(missing)}"
    assert set(TYPES) - live == set(), "the vocabulary lists a type no recognizer produces"


def test_types_command_lists_family_languages_and_example() -> None:
    result = CliRunner().invoke(policy_cli, ["types", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["type"]: row for row in json.loads(result.output)}
    assert set(rows) >= set(TYPES)
    assert rows["IBAN_CODE"]["family"] == "financial"
    assert rows["IBAN_CODE"]["languages"] == ["en"]
    assert all(row["example"] for row in rows.values())


def test_types_command_lists_a_policys_custom_types(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("custom:\n  - name: codes\n    entity: PROJECT_CODE\n    regex: 'PRJ-\\d{4}'\n")
    result = CliRunner().invoke(policy_cli, ["types", "--policy", str(path)])
    assert result.exit_code == 0, result.output
    assert "PROJECT_CODE" in result.output and "custom" in result.output


def test_examples_are_found_as_their_type(detector) -> None:
    """Each example the vocabulary shows is detected as its own type by the real engine."""
    from cogate.policies.detect.engine import Detector

    engine = Detector(detector.policy, all_types=True)
    missed = []
    for row in TYPES.values():
        text = f"Note: {row.example} thanks"
        found = {s.entity_type for s in engine.raw(text)}
        if row.name not in found:
            missed.append((row.name, sorted(found)))
    assert not missed


def test_policy_error_is_raised_for_unknown_types(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("actions:\n  EMAIL: mask\n")
    with pytest.raises(PolicyError, match="EMAIL_ADDRESS"):
        load_policy(path)
