"""Agent text: cue words and instruction verbs are never the entity, short codes are no
places, and coding agents' own instructions and tool schemas reach the model intact while
a name and an e-mail in the task are still replaced (captured first requests of Claude
Code and Codex CLI, tests/data/agents/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cogate.policies.detect.engine import Detector
from cogate.policies.privacy import Privacy
from cogate.proxy.surfaces import exchange_for

AGENTS = Path(__file__).parent.parent / "data" / "agents"
PLANTED = ("Maria Schneider", "maria.schneider@example.com")


def values(detector: Detector, text: str, kind: str | None = None) -> list[str]:
    return [
        text[s.start : s.end]
        for s in detector.detect(text, acting_only=False)
        if kind is None or s.entity_type == kind
    ]


def test_instruction_verb_stays(detector: Detector) -> None:
    assert values(detector, "Email Tom Baker about the report", "PERSON") == ["Tom Baker"]


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("Ruf Anna Schmidt morgen an.", "Anna Schmidt"),
        ("Stuur Pieter van Dijk de factuur.", "Pieter van Dijk"),
        ("Skicka fakturan till Sven Berg.", "Sven Berg"),
    ],
)
def test_instruction_verbs_of_other_languages_stay(
    detector: Detector, text: str, person: str
) -> None:
    assert values(detector, text, "PERSON") == [person]


def test_a_lone_instruction_verb_is_no_person(detector: Detector) -> None:
    assert values(detector, "Ruf mich an: 0151 23456789.", "PERSON") == []


def test_a_noun_phrase_after_an_introducing_word_is_no_person(detector: Detector) -> None:
    text = "Sehr geehrter Herr Weber, vielen Dank für Ihre Nachricht."
    assert [v for v in values(detector, text, "PERSON") if "Weber" not in v] == []


@pytest.mark.parametrize(
    "text",
    ["Meine Steuer-ID ist 65 929 970 489.", "Mi DNI es 12345678Z.", "Mijn BSN is 111222333."],
)
def test_cue_word_is_no_person(detector: Detector, text: str) -> None:
    assert values(detector, text, "PERSON") == []


def test_short_codes_are_no_places(detector: Detector) -> None:
    text = "Prepare the Q3 report for the S3 bucket, the EKS cluster and the C4 instances."
    assert values(detector, text, "LOCATION") == []


def test_ner_alone_never_replaces_a_schema_key(privacy: Privacy) -> None:
    schema = {"type": "object", "properties": {"metadata": {"type": "string"}}}
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "Discard", "parameters": schema}}],
    }
    ex = exchange_for("chat/completions", body)
    privacy.resolve(ex)
    privacy.sanitize(ex)
    sent = json.loads(ex.outbound)
    assert sent["tools"][0]["function"]["name"] == "Discard"
    assert list(sent["tools"][0]["function"]["parameters"]["properties"]) == ["metadata"]


def _keys(node, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            if key == "name" and isinstance(value, str):
                out.add(value)
            _keys(value, out)
    elif isinstance(node, list):
        for item in node:
            _keys(item, out)
    return out


@pytest.mark.parametrize("capture", sorted(AGENTS.glob("*.json")), ids=lambda p: p.stem)
def test_agent_first_request(privacy: Privacy, capture: Path) -> None:
    recorded = json.loads(capture.read_text())
    body = recorded["body"]
    ex = exchange_for(recorded["path"].removeprefix("/v1/"), json.loads(json.dumps(body)))
    privacy.resolve(ex)
    privacy.sanitize(ex)
    sent = json.loads(ex.outbound)
    text = json.dumps(sent, ensure_ascii=False)
    assert not [p for p in PLANTED if p in text], "the planted name and e-mail are replaced"
    assert _keys(sent, set()) == _keys(body, set()), "tool names and schema keys intact"
    chars = len(json.dumps(body, ensure_ascii=False))
    # Two findings are the planted values; the rest are false (at most one per 10k chars).
    assert len(ex.findings) - 2 <= chars / 10_000


@pytest.mark.parametrize(
    "text", ['{"status": "ok", "count": 3}', '{"state": "many", "hint": "soon"}']
)
def test_everyday_words_in_tool_output_are_no_people(detector: Detector, text: str) -> None:
    assert values(detector, text, "PERSON") == []
