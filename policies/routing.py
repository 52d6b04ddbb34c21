"""Routes chosen on what a request holds (`match: {found: [...]}`) and routes that stick to a
conversation (`sticky: true`).

What a request holds is read once, while the policy is chosen: every text field the request's
surface scans goes through the base policy's detector (the same calls redaction makes, so a
request that stays in `redact` finds each analysis in the shared cache instead of detecting
again) and through the sensitive-matter word lists. A sticky route that applied to a
conversation (its pseudonym vault's key: the conversation header, the opening turns, or the
Responses chain it continues) applies to that conversation's later turns whatever they hold.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from cachetools import LRUCache
from cogate.core.exchange import Exchange
from cogate.policies.detect.engine import Detector
from cogate.policies.sensitive import FOUND_CATEGORIES, sensitive_topics

STICKY_CONVERSATIONS = 100_000  # conversations remembered per gateway process


def found_name(name: str) -> str:
    """How a `found` entry compares: a category by its lower-case name (`HEALTH`, `health`
    and `finance` name the categories sensitive.py detects), an entity type as written."""
    category = FOUND_CATEGORIES.get(name.lower())
    return f"category:{category}" if category else name


@dataclass
class Finder:
    """A `Scanner` (core.surface) that changes nothing and notes what it finds: entity types
    and sensitive-matter categories."""

    detector: Detector
    found: set[str] = field(default_factory=set)

    def _note(self, value: str, context: str = "") -> None:
        for span in self.detector.detect(context + value if context else value):
            self.found.add(span.entity_type)
        for topic in sensitive_topics(value):
            self.found.add(f"category:{topic.category}")

    def text(self, value: str, path: str, context: str = "", *, words: bool = False) -> str:
        self._note(value, context)
        if words and ("_" in value or "-" in value):
            self._note(value.replace("_", " ").replace("-", " "), context)
        return value

    def texts(self, values: list[str], paths: list[str]) -> list[str]:
        if len(values) < 2:
            for value in values:
                self._note(value)
        else:
            self._note("".join(values))
        return values

    def unscannable(self, path: str, kind: str) -> bool:
        return True  # what may leave is decided by the redaction, not here


def findings_of(ex: Exchange, detector: Detector) -> frozenset[str]:
    """Entity types (`US_SSN`) and categories (`category:health`) anywhere in the request."""
    if ex.surface is None:
        raise TypeError("the exchange has no surface to walk its fields; ingress sets one")
    if not ex.raw:
        return frozenset()  # a request without a body (GET) holds nothing
    finder = Finder(detector)
    ex.surface.rewrite(ex.op, ex.raw, ex.body, finder)
    return frozenset(finder.found)


@dataclass(frozen=True)
class Why:
    """Why a route applied, for `x-cogate-route` and the ledger's note."""

    route: str
    reason: str  # "match", "found:HEALTH,US_SSN" or "sticky"

    def header(self) -> str:
        return f"{self.route}; reason={self.reason}"


class StickyRoutes:
    """Conversation key → the sticky route that applied to it (in memory, bounded)."""

    def __init__(self, size: int = STICKY_CONVERSATIONS) -> None:
        self._routes: LRUCache[str, str] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._routes.get(key)

    def keep(self, key: str, route: str) -> None:
        with self._lock:
            self._routes[key] = route


def lazily(compute: Callable[[], frozenset[str]]) -> Callable[[], frozenset[str]]:
    """`compute` run once, on first call (detection only when a route needs it)."""
    box: list[frozenset[str]] = []

    def get() -> frozenset[str]:
        if not box:
            box.append(compute())
        return box[0]

    return get
