"""The shipped presets (hipaa, gdpr, pci), the recognizers they need, and `policy coverage`
checking each identifier of their standard live through the engine."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from cogate.policies.cli import policy as policy_cli
from cogate.policies.detect.engine import Detector
from cogate.policies.recognizers.regulated import vin_check_digit_ok
from cogate.policies.schema import load_policy

# (text, type, the value found) and texts where the type must not be found
FOUND = [
    ("MRN: 00482913, bed 4", "MEDICAL_RECORD_NUMBER", "00482913"),
    ("medical record no. A7731-442", "MEDICAL_RECORD_NUMBER", "A7731-442"),
    ("Insurance member ID XJH448120931", "HEALTH_PLAN_NUMBER", "XJH448120931"),
    ("Medicare ID 1EG4-TE5-MK72", "HEALTH_PLAN_NUMBER", "1EG4-TE5-MK72"),
    ("fax: 617-555-0199", "FAX_NUMBER", "617-555-0199"),
    ("the car 1HGCM82633A004352 was sold", "VEHICLE_ID", "1HGCM82633A004352"),
    ("license plate 7ABC123", "VEHICLE_ID", "7ABC123"),
    ("implant serial number SN-44-9921-X", "DEVICE_ID", "SN-44-9921-X"),
    ("a 93-year-old man", "AGE_OVER_89", "93-year-old"),
    ("patient aged 101", "AGE_OVER_89", "aged 101"),
    ("seen on 2021-03-14 at noon", "PRECISE_DATE", "2021-03-14"),
    ("born 14 March 1931 in Leeds", "PRECISE_DATE", "14 March 1931"),
    ("cvc2: 4412", "CARD_CVV", "4412"),
    ("valid thru 11/2028", "CARD_EXPIRY", "11/2028"),
    ("%B4111111111111111^DOE/JOHN^2709101000000000000000?", "CARD_TRACK_DATA", None),
]
NOT_FOUND = [
    ("a 45-year-old man", "AGE_OVER_89"),
    ("she turned 89 years old", "AGE_OVER_89"),
    ("born in 1931", "PRECISE_DATE"),
    ("the car 1HGCM82633A004353 was sold", "VEHICLE_ID"),  # wrong check digit, no cue
    ("the charter is long", "MEDICAL_RECORD_NUMBER"),
    ("a fax machine broke", "FAX_NUMBER"),
]


@pytest.fixture(scope="module")
def engine(detector: Detector) -> Detector:
    return Detector(load_policy("hipaa"), all_types=True)


@pytest.mark.parametrize(("text", "entity", "value"), FOUND)
def test_regulated_recognizers_find(engine: Detector, text: str, entity: str, value) -> None:
    found = [(s.entity_type, text[s.start : s.end]) for s in engine.raw(text)]
    assert any(t == entity and (value is None or v == value) for t, v in found), found


@pytest.mark.parametrize(("text", "entity"), NOT_FOUND)
def test_regulated_recognizers_leave(engine: Detector, text: str, entity: str) -> None:
    assert entity not in {s.entity_type for s in engine.raw(text)}


def test_vin_check_digit() -> None:
    assert vin_check_digit_ok("1HGCM82633A004352")
    assert not vin_check_digit_ok("1HGCM82633A004353")
    assert not vin_check_digit_ok("1HGCM8263")


@pytest.mark.parametrize(("name", "count"), [("hipaa", 18), ("gdpr", 14), ("pci", 5)])
def test_coverage_of_each_preset_is_complete(name: str, count: int) -> None:
    result = CliRunner().invoke(policy_cli, ["coverage", "--policy", name, "--json"])
    report = json.loads(result.output)
    assert len(report["identifiers"]) == count
    assert [r["key"] for r in report["identifiers"] if not r["covered"]] == []
    assert result.exit_code == 0
    assert report["standard"] == name


def test_coverage_says_not_covered_when_a_policy_keeps_a_type(tmp_path) -> None:
    path = tmp_path / "weak.yaml"
    path.write_text(
        "standard: hipaa\nactions:\n  default: pseudonymize\n  FAX_NUMBER: keep\n"
        "  PHONE_NUMBER: keep\nunscannable: allow\n"
    )
    result = CliRunner().invoke(policy_cli, ["coverage", "--policy", str(path)])
    assert result.exit_code == 1
    assert "Fax numbers\n    not covered" in result.output
    assert "Full-face photographs and comparable images\n    not covered" in result.output
    assert "16 of 18 identifiers covered" in result.output or "of 18 identifiers" in result.output


def test_coverage_needs_a_standard() -> None:
    result = CliRunner().invoke(policy_cli, ["coverage", "--policy", "default"])
    assert result.exit_code == 2 and "claims no standard" in result.output


def test_gdpr_routes_special_categories_to_the_device() -> None:
    gdpr = load_policy("gdpr")
    assert gdpr.mode == "sketch" and gdpr.private_context.sensitive_task == "local"


def test_pci_blocks_card_data_and_keeps_no_body() -> None:
    pci = load_policy("pci")
    for entity in ("CREDIT_CARD", "CARD_CVV", "CARD_EXPIRY", "CARD_TRACK_DATA"):
        assert pci.action_for(entity) == "block"
    assert pci.store_body is False


@pytest.mark.parametrize("name", ["hipaa", "gdpr", "pci", "strict"])
def test_shipped_names_work_in_every_policy_command(name: str) -> None:
    runner = CliRunner()
    assert runner.invoke(policy_cli, ["check", name]).exit_code == 0
    tested = runner.invoke(policy_cli, ["test", "--policy", name, "--json", "Call 617-555-0142"])
    assert tested.exit_code == 0, tested.output
    assert json.loads(tested.output)["policy"] == name
