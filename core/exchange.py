"""The request object that flows through the pipeline.

Created at ingress, each stage adds to it (policy, findings, outbound body, audit ids,
timings) instead of threading many parameters.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .surface import Held, Surface, TextRestore


class PolicyFacts(Protocol):
    """What the kernel and the gateway read from the policy an exchange runs under; the
    full schema lives in the privacy engine (`cogate.policies.schema.Policy`)."""

    @property
    def name(self) -> str: ...

    @property
    def mode(self) -> str: ...

    @property
    def store_body(self) -> bool: ...


class Restorer(Protocol):
    """Gives the app its own values back in an answer.

    Surfaces restore their own shapes through `text` and `held()`; `restore_json` serves
    the collaboration modes' chat-shaped answers. `withheld` counts the placeholders kept
    because they sat in a URL whose host may not receive values.
    """

    @property
    def text(self) -> TextRestore: ...

    def held(self) -> Held: ...

    def restore_json(self, body: Any) -> Any: ...

    @property
    def withheld(self) -> int: ...


class PlainText:
    """The text restorer of a request from which nothing was replaced."""

    def restore(self, text: str, *, json_escape: bool = False) -> str:
        return text


class PlainHeld:
    """Held text of a request from which nothing was replaced: nothing is held back."""

    def release(
        self,
        key: tuple[Any, ...],
        piece: str,
        *,
        final: bool,
        json_escape: bool,
        lane: tuple[Any, ...] | None = None,
    ) -> str:
        return piece

    def holds(self, key: tuple[Any, ...]) -> bool:
        return False

    def snapshot(
        self,
        key: tuple[Any, ...],
        whole: str,
        *,
        json_escape: bool,
        lane: tuple[Any, ...] | None = None,
    ) -> str:
        return whole


class NoRestore:
    """The restorer of a request from which nothing was replaced."""

    text: TextRestore = PlainText()

    def held(self) -> Held:
        return PlainHeld()

    def restore_json(self, body: Any) -> Any:
        return body

    @property
    def withheld(self) -> int:
        return 0


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

    route: str  # upstream path under the surface's base URL, e.g. "chat/completions"
    body: dict[str, Any]
    # The wire API the request came in on and its operation; the pipeline and the privacy
    # engine call it through the Surface Protocol and never ask which one it is.
    surface: Surface | None = field(default=None, repr=False)
    op: str = ""
    method: str = "POST"
    raw: bytes = field(default=b"", repr=False)  # the app's request body as received
    params: dict[str, str] = field(default_factory=dict)  # the route's path parameters
    query: dict[str, str] = field(default_factory=dict)  # the URL's query parameters
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased, no secrets
    authorization: str | None = field(default=None, repr=False)  # forwarded, never logged
    # Headers a surface forwards as the app sent them (x-api-key, anthropic-*), never logged.
    upstream_headers: dict[str, str] = field(default_factory=dict, repr=False)
    # The app's own headers forwarded to its API's upstream, held to their shapes
    # (OpenAI-Organization, OpenAI-Project, OpenAI-Beta, HTTP-Referer, X-Title, User-Agent).
    app_headers: dict[str, str] = field(default_factory=dict, repr=False)
    app: str = "default"
    conversation: str | None = None
    requested_mode: str | None = None
    destination_host: str | None = None  # original host when intercepted
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)

    # Filled by the stages.
    policy: PolicyFacts | None = None
    # The policy route that applied (its name, or `routes[i]`); None: the base policy.
    policy_route: str | None = None
    # Why it applied: "match", "found:HEALTH" or "sticky" (x-cogate-route, the ledger's note).
    policy_route_reason: str = ""
    policy_id: str = "none"
    policy_hash: str = ""
    mode: str = "passthrough"
    # Whether the ledger keeps the sanitized body that left, or only its hash.
    store_body: bool = True
    # Third parties' credentials the body forwards: masked in the ledger's copy of it.
    credentials: list[str] = field(default_factory=list, repr=False)
    findings: list[Finding] = field(default_factory=list)
    # (entity type, raw value) pairs removed from the request; only ever HMAC-tagged.
    removed: list[tuple[str, str]] = field(default_factory=list, repr=False)
    # The exact bytes to send upstream, once the privacy stage produced them.
    outbound: bytes | None = field(default=None, repr=False)
    restorer: Restorer = field(default_factory=NoRestore)
    # The key of the conversation vault this exchange uses, once the privacy engine worked it
    # out, and whether it continues stored state this gateway does not know (then its
    # placeholders are numbered above a floor).
    vault_key: str | None = None
    continues_unknown: bool = False
    # It names stored state at all (known or not), and its vault serves this request only
    # (no conversation to continue: never held by the store).
    continues_state: bool = False
    vault_ephemeral: bool = False
    # The conversation's vault already held values before this request (a later turn of a
    # chain the upstream stores), so an answer may quote placeholders of earlier turns.
    vault_in_use: bool = False
    audit_ids: list[str] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)
    # Called with the ids under which the upstream stores the answer (see
    # `core.surface.stored_ids`), so later requests naming them reuse this vault.
    on_stored: Callable[[list[str]], None] | None = field(default=None, repr=False)
    # Called with each signature of a signed block (Messages thinking) relayed to the app,
    # so a later request carrying it back is relayed byte for byte (policies.signed_blocks).
    on_signed: Callable[[str], None] | None = field(default=None, repr=False)
    # Token usage of the answer (the upstream's, or the local model's), for the completion
    # entry; None until an answer reported one.
    usage: dict[str, Any] | None = None
    # Diagnostics of the collaboration modes (outline, fallback reason, fusion statistics).
    notes: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    # Who is calling: a token's identity (shared mode) or a keyed hash of the caller's
    # upstream credential (personal mode). `bound_apps` is None in personal mode.
    identity: str = "personal"
    bound_apps: tuple[str, ...] | None = None
    # The app the policy routes saw: on a shared gateway the token's bound app (the header
    # is a label only), in personal mode the header. Set with the policy.
    routed_app: str | None = None

    @property
    def stream(self) -> bool:
        if self.surface is not None:
            # A request without a body (GET) asks for a stream in its query string.
            asked = self.query if self.method == "GET" else self.body
            return self.surface.stream_requested(self.op, asked)
        return bool(self.body.get("stream"))

    @property
    def outbound_body(self) -> Any:
        """The sanitized body that left (or will), as JSON; None before the privacy stage."""
        return json.loads(self.outbound) if self.outbound else None

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) else None

    @property
    def needs_restoring(self) -> bool:
        """Whether an answer may hold placeholders: only when something was replaced, in
        this request or earlier in its conversation."""
        return bool(self.findings) or self.vault_in_use

    def entity_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.entity_type] = counts.get(finding.entity_type, 0) + 1
        return counts

    def mark(self, name: str) -> None:
        """Record the time since ingress at which a stage finished, in milliseconds."""
        self.timings[name] = round((time.perf_counter() - self.started) * 1000, 3)


class Sanitizer(Protocol):
    """The privacy engine as the pipeline and the collaboration modes use it."""

    def resolve(self, ex: Exchange) -> None:
        """Choose the policy and the mode of an exchange."""

    def sanitize(self, ex: Exchange) -> None:
        """Transform the request for its mode; sets `outbound_body` and `restorer`."""

    def sanitize_text(self, ex: Exchange, text: str, field: str) -> str:
        """One text with this exchange's policy applied (findings added to `ex`)."""

    def private_spans(self, ex: Exchange, text: str) -> list[tuple[str, int, int]]:
        """(type, start, end) of every entity in a private-context text, whatever the
        policy's action for its type: what the collaboration modes keep from leaving.
        Nothing is added to `ex`."""
