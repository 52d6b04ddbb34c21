"""`cogate policy check|test|types`: validate a policy file, try a policy on a text, list the
entity types a policy may name."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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


_DEFAULT_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}


@policy.command()
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy YAML or shipped name (default: the shipped default policy).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--app", help="The app (x-cogate-app) the request comes from, for routes.")
@click.option("--model", help="The model the request names, for routes.")
@click.option("--host", help="The destination host (default: the surface's API host).")
@click.option(
    "--surface",
    type=click.Choice(sorted(_DEFAULT_HOSTS)),
    default="openai",
    show_default=True,
    help="The wire API the request speaks (sets the default --host).",
)
@click.argument("text")
def test(
    policy_file: Path | None,
    as_json: bool,
    app: str | None,
    model: str | None,
    host: str | None,
    surface: str,
    text: str,
) -> None:
    """Show what the policy finds in TEXT (`-` reads stdin), the route that applied and the
    sanitized text. Exit 0 when the request would be sent, 1 when it would be refused, 2
    when the policy is invalid.

    Findings give type, offsets, score and recognizer, never the matched text.
    """
    from cogate.policies.detect.engine import Detector
    from cogate.policies.privacy import choose_route, route_policies
    from cogate.policies.redact import Outcome, Redaction
    from cogate.policies.schema import PolicyError, check_policy
    from cogate.policies.vault.memory import Vault

    if text == "-":
        text = sys.stdin.read()
    try:
        base = check_policy(policy_file)
        routes = route_policies(base, policy_file)
    except PolicyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    destination = (host or _DEFAULT_HOSTS[surface]).lower()
    why, policy_id, loaded = choose_route(
        base, routes, app or "default", destination, model, found=lambda: _found(base, text)
    )
    route = why.route if why else None
    outcome = Outcome()
    # An ephemeral key: `hash` output here shows the form, not the gateway's real tags.
    redaction = Redaction(
        loaded, policy_id, Detector(loaded), Vault(), b"policy-test-key", outcome, dry_run=True
    )
    sanitized = redaction.text(text, "text")
    findings = [
        {**f.as_dict(), "action": loaded.action_for(f.entity_type)} for f in outcome.findings
    ]
    for f in findings:
        f.pop("field", None)
    blocked = sorted({f.entity_type for f in outcome.blocked})
    refused = bool(blocked) or loaded.mode == "block"
    report = {
        "policy": policy_id,
        "policy_hash": loaded.content_hash(),
        "route": route,
        "mode": loaded.mode,
        "findings": findings,
        "blocked": blocked,
        "refused": refused,
        "sanitized": sanitized,
    }
    _print_test(report, as_json)
    sys.exit(1 if refused else 0)


def _print_test(report: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    route = report["route"] or "none (the base policy)"
    click.echo(f"policy {report['policy']} ({report['policy_hash']}), mode {report['mode']}")
    click.echo(f"route: {route}")
    for f in report["findings"]:
        click.echo(
            f"  {f['type']:<16} {f['start']:>6}-{f['end']:<6} score {f['score']:<5} "
            f"{f['recognizer']:<28} {f['action']}"
        )
    if report["blocked"]:
        click.echo(f"the request would be refused: {', '.join(report['blocked'])} blocked")
    elif report["mode"] == "block":
        click.echo("the request would be refused: the policy's mode is block")
    click.echo("sanitized:")
    click.echo(report["sanitized"])


@policy.command()
@click.option(
    "--policy",
    "policy_file",
    help="Policy YAML or shipped name (default: the shipped default policy).",
)
@click.option(
    "--effective",
    is_flag=True,
    help="The whole policy in force: the file merged over the shipped default.",
)
def show(policy_file: str | None, effective: bool) -> None:
    """Print a policy as YAML: the file's own changes, or with --effective the merged policy
    the gateway runs (every key, defaults included), and its content hash."""
    import yaml
    from cogate.policies.schema import PolicyError, check_policy, read_policy_data

    try:
        loaded = check_policy(policy_file)
        data = loaded.model_dump(mode="json") if effective else read_policy_data(policy_file)
    except PolicyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"# policy {loaded.name} ({loaded.content_hash()})")
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


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


def _found(policy: Any, text: str) -> frozenset[str]:
    """What a `found` route would see in TEXT: entity types and sensitive-matter categories."""
    from cogate.policies.detect.engine import Detector
    from cogate.policies.sensitive import sensitive_topics

    detector = Detector(policy, all_types=True)
    types = {span.entity_type for span in detector.detect(text, acting_only=False)}
    return frozenset(types | {f"category:{t.category}" for t in sensitive_topics(text)})
