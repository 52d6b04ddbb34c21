"""What the gateway hands the ledger: one record per egress and one per completion.

Raw removed values travel here only so the ledger can tag them with its keyed HMAC; the
ledger never stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class EgressRecord:
    exchange_id: str
    app: str
    destination_host: str  # "local" when nothing left the device
    destination_path: str
    method: str
    model: str | None
    mode: str
    policy_id: str
    policy_hash: str
    entity_counts: dict[str, int]
    removed_values: list[tuple[str, str]] = field(default_factory=list, repr=False)
    body: bytes = b""  # the sanitized body exactly as it left; b"" when nothing left
    store_body: bool = True  # False: keep only the body's hash
    # Credentials in the body: the stored copy has each replaced by `[CREDENTIAL]`.
    masked: list[str] = field(default_factory=list, repr=False)
    # "egress" (bytes left) | "local" (nothing left) | "refusal" (the policy refused it)
    kind: str = "egress"
    note: dict[str, Any] = field(default_factory=dict)
    identity: str = ""  # the caller: a token's name, or a keyed hash in personal mode
    route: str | None = None  # the policy route that applied; None: the base policy
    surface: str = ""  # the wire API the request came in on
    bound_apps: tuple[str, ...] | None = None  # the token's apps; None in personal mode
    # What was done to each entity type's values (pseudonymized, blocked, ...), per tag.
    actions: dict[str, str] = field(default_factory=dict)
    # A refusal's status and error code (never its message, which may name a path).
    refusal: dict[str, Any] = field(default_factory=dict)


@dataclass
class CompletionRecord:
    egress_id: str
    exchange_id: str
    status: int | None  # HTTP status from the upstream; None when no response came
    outcome: str  # "ok" | "upstream_error" | "unreachable" | "timeout" | "cancelled" | ...
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    error: str | None = None  # a description without request content
    identity: str = ""
    # Placeholders left unrestored because they sat in a URL whose host is not allowed.
    restore_withheld: int = 0


class Ledger(Protocol):
    """The narrow interface the gateway writes through (SQLite now, PostgreSQL later)."""

    def append_egress(self, record: EgressRecord) -> str:
        """Commit the entry durably and return its audit id; raise if it cannot."""
        ...

    def append_completion(self, record: CompletionRecord) -> str: ...

    def close(self) -> None:
        """Sign a final checkpoint and release the store."""
        ...
