"""The request object that flows through the pipeline.

Created at ingress, each stage adds to it (policy, findings, outbound body, audit ids,
timings) instead of threading many parameters.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol


class StreamRestorer(Protocol):
    """Restores placeholders in a stream of parsed SSE event objects."""

    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]: ...


class Restorer(Protocol):
    """Gives the app its own values back in an answer."""

    def restore_json(self, body: Any) -> Any: ...

    def stream(self) -> StreamRestorer: ...


class _PassStream:
    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        return [event]

    def finish(self) -> list[dict[str, Any]]:
        return []


class NoRestore:
    """The restorer of a request from which nothing was replaced."""

    def restore_json(self, body: Any) -> Any:
        return body

    def stream(self) -> StreamRestorer:
        return _PassStream()


@dataclass
class Finding:
    """One detected entity: never the matched text."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str
    field: str = ""  # JSON path of the outbound field, e.g. messages[2].content

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.entity_type,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 3),
            "recognizer": self.recognizer,
            "field": self.field,
        }


@dataclass
class Exchange:
    """One app request and everything the gateway learned and did for it."""

    route: str  # "chat/completions" | "completions" | "embeddings" | "models"
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased, no secrets
    authorization: str | None = field(default=None, repr=False)  # forwarded, never logged
    # Headers a surface forwards as the app sent them (x-api-key, anthropic-*), never logged.
    upstream_headers: dict[str, str] = field(default_factory=dict, repr=False)
    app: str = "default"
    conversation: str | None = None
    requested_mode: str | None = None
    destination_host: str | None = None  # original host when intercepted
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)

    # Filled by the stages.
    policy: Any = None
    policy_id: str = "none"
    policy_hash: str = ""
    mode: str = "passthrough"
    findings: list[Finding] = field(default_factory=list)
    # (entity type, raw value) pairs removed from the request; only ever HMAC-tagged.
    removed: list[tuple[str, str]] = field(default_factory=list, repr=False)
    outbound_body: dict[str, Any] | None = None
    restorer: Restorer = field(default_factory=NoRestore)
    audit_ids: list[str] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) else None

    def entity_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.entity_type] = counts.get(finding.entity_type, 0) + 1
        return counts

    def mark(self, name: str) -> None:
        """Record the time since ingress at which a stage finished, in milliseconds."""
        self.timings[name] = round((time.perf_counter() - self.started) * 1000, 3)
