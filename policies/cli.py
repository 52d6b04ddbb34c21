"""`cogate policy check|test|types`: validate a policy file, try a policy on a text, list the
entity types a policy may name."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group()
def policy() -> None:
    """Write and try redaction policies."""


@policy.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Validate FILE (the changes to the shipped default policy). Exit 0 ok, 2 invalid."""
    from cogate.policies.schema import PolicyError, check_policy

    try:
        loaded = check_policy(file)
    except PolicyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"{file}: ok (policy {loaded.name!r}, mode {loaded.mode}, {loaded.content_hash()})")


@policy.command()
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy YAML (default: the shipped default policy).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.argument("text")
def test(policy_file: Path | None, as_json: bool, text: str) -> None:
    """Show what the policy finds in TEXT (`-` reads stdin) and the sanitized text.

    Findings give type, offsets, score and recognizer, never the matched text.
    """
    from cogate.policies.detect.engine import Detector
    from cogate.policies.redact import Outcome, Redaction
    from cogate.policies.schema import PolicyError, load_policy
    from cogate.policies.vault.memory import Vault

    if text == "-":
        text = sys.stdin.read()
    try:
        loaded = load_policy(policy_file)
    except PolicyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    outcome = Outcome()
    # An ephemeral key: `hash` output here shows the form, not the gateway's real tags.
    redaction = Redaction(
        loaded, loaded.name, Detector(loaded), Vault(), b"policy-test-key", outcome, dry_run=True
    )
    sanitized = redaction.text(text, "text")
    findings = [
        {**f.as_dict(), "action": loaded.action_for(f.entity_type)} for f in outcome.findings
    ]
    for f in findings:
        f.pop("field", None)
    blocked = sorted({f.entity_type for f in outcome.blocked})
    if as_json:
        click.echo(
            json.dumps(
                {
                    "policy": loaded.name,
                    "policy_hash": loaded.content_hash(),
                    "mode": loaded.mode,
                    "findings": findings,
                    "blocked": blocked,
                    "sanitized": sanitized,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(f"policy {loaded.name} ({loaded.content_hash()}), mode {loaded.mode}")
    for f in findings:
        click.echo(
            f"  {f['type']:<16} {f['start']:>6}-{f['end']:<6} score {f['score']:<5} "
            f"{f['recognizer']:<28} {f['action']}"
        )
    if blocked:
        click.echo(f"the request would be refused: {', '.join(blocked)} blocked")
    click.echo("sanitized:")
    click.echo(sanitized)


@policy.command()
@click.option(
    "--policy",
    "policy_file",
    help="Policy YAML or shipped name, whose `custom` types are listed too.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def types(policy_file: str | None, as_json: bool) -> None:
    """List every entity type a policy may name in `actions`, `thresholds` and routes, with
    its recognizer family, languages and one example. Names are exact: there are no aliases."""
    from cogate.policies.detect.types import registered_types
    from cogate.policies.schema import PolicyError, load_policy

    try:
        loaded = load_policy(policy_file)
    except PolicyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    rows = registered_types(tuple(loaded.phone_regions), loaded.custom)
    if as_json:
        listed = [
            {
                "type": t.name,
                "family": t.family,
                "languages": list(t.languages),
                "example": t.example,
            }
            for t in sorted(rows.values(), key=lambda t: (t.family, t.name))
        ]
        click.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    click.echo(f"{'TYPE':<20} {'FAMILY':<12} {'LANGUAGES':<10} EXAMPLE")
    for t in sorted(rows.values(), key=lambda t: (t.family, t.name)):
        click.echo(f"{t.name:<20} {t.family:<12} {','.join(t.languages):<10} {t.example}")


@policy.command()
@click.option(
    "--policy",
    "policy_file",
    default="hipaa",
    show_default=True,
    help="A preset's name (hipaa, gdpr, pci) or a policy YAML that sets `standard:`.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def coverage(policy_file: str, as_json: bool) -> None:
    """List each identifier of the standard the policy claims, covered or not, with the
    action and the recognizer; each is checked live with a built-in example through the
    engine. Exit 0 when all are covered, 1 when one is not, 2 when the policy is invalid."""
    from cogate.policies.coverage import coverage as check_coverage
    from cogate.policies.detect.engine import Detector
    from cogate.policies.schema import PolicyError, check_policy

    try:
        loaded = check_policy(policy_file)
    except PolicyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    if loaded.standard is None:
        click.echo(
            f"policy {loaded.name!r} claims no standard; give --policy hipaa, gdpr or pci, or "
            "set `standard: hipaa|gdpr|pci` in the policy",
            err=True,
        )
        sys.exit(2)
    rows = check_coverage(loaded, loaded.standard, Detector(loaded))
    ok = all(row.covered for row in rows)
    if as_json:
        out = {"policy": loaded.name, "standard": loaded.standard, "covered": ok}
        out["identifiers"] = [row.as_dict() for row in rows]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(f"policy {loaded.name} ({loaded.content_hash()}), standard {loaded.standard}")
        for number, row in enumerate(rows, 1):
            state = "covered" if row.covered else "not covered"
            click.echo(f"{number:>2}. {row.title}")
            click.echo(f"    {state}; {row.action}; by {row.recognizer}")
            if row.detail and not row.covered:
                click.echo(f"    {row.detail}")
        count = sum(row.covered for row in rows)
        click.echo(f"{count} of {len(rows)} identifiers covered")
    sys.exit(0 if ok else 1)
