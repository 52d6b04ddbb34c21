"""False findings in coding agents' real first requests (Claude Code, Codex CLI).

The requests in tests/data/agents/ were captured through a recording stand-in with one task
that names a person and an e-mail address (Maria Schneider, maria.schneider@example.com).
Each is sanitized by the gateway's privacy engine with the default policy, on its own
surface (Anthropic Messages, OpenAI Responses); a finding that does not cover a planted
value is false. Prints findings per 10k characters of scanned text, the false ones by type
and field kind, whether a tool name or a JSON-schema property key changed, and whether the
planted name and e-mail were replaced.

Run: .venv/bin/python bench/agent_captures.py [-v]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CAPTURES = REPO / "tests" / "data" / "agents"
PLANTED = ("Maria Schneider", "maria.schneider@example.com")


def field_text(body: Any, path: str) -> str | None:
    """The text at a finding's field path (`input[1].content[0].text`, `tools[2].name`)."""
    node = body
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            return None
    return node if isinstance(node, str) else None


def schema_keys(node: Any, out: set[str]) -> set[str]:
    """Every property key of every JSON schema in the request, and every tool name."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            if key == "name" and isinstance(value, str):
                out.add(value)
            schema_keys(value, out)
    elif isinstance(node, list):
        for item in node:
            schema_keys(item, out)
    return out


def scanned_chars(node: Any) -> int:
    if isinstance(node, str):
        return len(node)
    if isinstance(node, dict):
        return sum(len(k) + scanned_chars(v) for k, v in node.items())
    if isinstance(node, list):
        return sum(scanned_chars(v) for v in node)
    return 0


def measure(privacy, name: str, capture: dict, verbose: bool) -> dict:
    from cogate.proxy.surfaces import exchange_for

    body = dict(capture["body"])
    route = capture["path"].removeprefix("/v1/")
    ex = exchange_for(route, json.loads(json.dumps(body)))
    privacy.sanitize(ex)
    outbound = json.loads(ex.outbound)
    false, planted_hits = Counter(), set()
    for finding in ex.findings:
        text = field_text(body, finding.field) or ""
        value = text[finding.start : finding.end]
        hit = [p for p in PLANTED if p in value or value in p and value]
        if hit:
            planted_hits.update(hit)
            continue
        kind = "schema" if ".properties" in finding.field or "schema" in finding.field else "text"
        false[(finding.entity_type, kind)] += 1
        if verbose:
            print(
                f"   false {finding.entity_type:<14} {finding.recognizer:<24} "
                f"{finding.field}: {value!r}"
            )
    keys_before, keys_after = schema_keys(body, set()), schema_keys(outbound, set())
    left = [p for p in PLANTED if p in json.dumps(outbound, ensure_ascii=False)]
    chars = scanned_chars(body)
    n_false = sum(false.values())
    return {
        "request": name,
        "chars": chars,
        "findings": len(ex.findings),
        "false": n_false,
        "false_per_10k": round(n_false / chars * 10_000, 2),
        "false_by_type": {f"{t}/{k}": n for (t, k), n in sorted(false.items())},
        "names_or_keys_changed": sorted(keys_before - keys_after),
        "planted_replaced": not left,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print each false finding")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from cogate.core.settings import Settings
    from cogate.policies.privacy import Privacy

    with tempfile.TemporaryDirectory() as data:
        privacy = Privacy(Settings(data_dir=data, upstream="https://api.openai.com/v1"))
        rows = []
        for path in sorted(CAPTURES.glob("*.json")):
            if args.verbose:
                print(path.name)
            rows.append(measure(privacy, path.stem, json.loads(path.read_text()), args.verbose))
    for row in rows:
        print(
            f"{row['request']:<28} {row['chars']:>7} chars  {row['findings']:>3} findings  "
            f"{row['false']:>3} false ({row['false_per_10k']:.2f} per 10k)  "
            f"planted replaced: {row['planted_replaced']}  tool names/schema keys changed: "
            f"{len(row['names_or_keys_changed'])}  {row['false_by_type']}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
