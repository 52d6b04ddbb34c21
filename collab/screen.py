"""Sensitive matters in the task that would leave (policy `private_context.sensitive_task`).

Run on the exact text the cloud would receive (reduced, redacted, guarded). The outcome is
written into the ledger entry of the exchange: `local` (nothing left), `generalised` (the
terms were replaced by their kind) or `allowed` (sent as is), with the categories found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cogate.core.exchange import Exchange
from cogate.policies.schema import policy_of
from cogate.policies.sensitive import categories, generalise, sensitive_topics

HEADER = "x-cogate-sensitive-task"
OUTCOMES = {"local": "local", "generalise": "generalised", "allow": "allowed"}


@dataclass
class Screened:
    text: str  # what may leave
    categories: list[str] = field(default_factory=list)
    outcome: str | None = None  # None: nothing sensitive; "local" | "generalised" | "allowed"

    @property
    def local(self) -> bool:
        """The task must not leave: answer on the device."""
        return self.outcome == "local"

    @property
    def note(self) -> dict[str, Any]:
        """The ledger note (categories only, never the terms)."""
        if self.outcome is None:
            return {}
        return {"sensitive_task": self.outcome, "sensitive_categories": self.categories}

    def mark(self, ex: Exchange) -> None:
        """Tell the app and the review what happened."""
        if self.outcome is not None:
            ex.notes["sensitive_task"] = self.outcome
            ex.response_headers[HEADER] = f"{self.outcome}; categories={','.join(self.categories)}"


def screen_task(ex: Exchange, text: str) -> Screened:
    """Apply the policy's `sensitive_task` choice to a task about to leave."""
    topics = sensitive_topics(text)
    if not topics:
        return Screened(text)
    choice = policy_of(ex).private_context.sensitive_task
    found = categories(topics)
    if choice == "generalise":
        return Screened(generalise(text, topics), found, OUTCOMES[choice])
    return Screened(text if choice == "allow" else "", found, OUTCOMES[choice])
