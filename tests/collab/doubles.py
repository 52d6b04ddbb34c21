"""Test doubles for the collaboration tests: a word-list privacy engine and a recording gate."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from cogate.collab.context import Split, split_turns
from cogate.core.exchange import Exchange, Finding
from cogate.core.settings import Settings
from cogate.policies.schema import Policy, PrivateContext
from cogate.proxy.egress.gate import EgressGate
from cogate.proxy.surfaces import chat, exchange_for
from cogate.proxy.upstream.client import build_client

from tests.proxy.doubles import ListLedger


class WordPrivacy:
    """Replaces the given words with numbered placeholders, as the privacy engine would."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words  # value -> entity type
        self.calls: list[tuple[str, str]] = []

    def sanitize_text(self, ex: Exchange, text: str, field: str) -> str:
        self.calls.append((text, field))
        for n, (value, kind) in enumerate(self.words.items(), start=1):
            for match in list(re.finditer(re.escape(value), text)):
                ex.findings.append(Finding(kind, match.start(), match.end(), 1.0, "words", field))
                ex.removed.append((kind, value))
            text = text.replace(value, f"[{kind}_{n}]")
        return text

    def private_spans(self, ex: Exchange, text: str) -> list[tuple[str, int, int]]:
        return [
            (kind, m.start(), m.end())
            for value, kind in self.words.items()
            for m in re.finditer(re.escape(value), text)
        ]


def policy(**collab: Any) -> Policy:
    """The shipped default policy with the given `collab` options."""
    return Policy.model_validate({"collab": collab})


def gate_for(
    handler: Callable[[httpx.Request], httpx.Response], ledger: ListLedger | None = None
) -> tuple[EgressGate, ListLedger]:
    ledger = ledger or ListLedger()
    settings = Settings(upstream="http://cloud.test/v1")
    client = build_client(settings, transport=httpx.MockTransport(handler))
    return EgressGate(settings, client, ledger), ledger


def split_request(body: dict[str, Any], rules: PrivateContext) -> Split:
    """A chat body split as the collaboration modes split it (read through its surface)."""
    return split_turns(chat.SURFACE.turns("chat.completions.create", body), rules)


def exchange(body: dict[str, Any], mode: str = "sketch", **collab: Any) -> Exchange:
    ex = exchange_for("chat/completions", body, app="test")
    ex.mode = mode
    ex.policy = policy(**collab)
    ex.policy_id = "test"
    return ex
