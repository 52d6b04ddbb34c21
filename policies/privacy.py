"""The privacy engine as pipeline stages: `resolve` a policy, `sanitize` the request.

Built once per gateway process: the policies (and those its routes name), the shared
analyzer, the analysis cache and the pseudonym vaults live here.
"""

from __future__ import annotations

import fnmatch
import functools
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cogate.core.app_headers import SCANNED as SCANNED_HEADERS
from cogate.core.errors import BadRequest, PolicyBlocked
from cogate.core.exchange import Exchange
from cogate.core.modes import stricter
from cogate.core.private_files import create_once, private_dir
from cogate.core.settings import Settings
from cogate.core.surface import credentials, signs_blocks
from cogate.policies.detect.analyzer import ner_isolation
from cogate.policies.detect.engine import AnalysisCache, Detector
from cogate.policies.labels import LabelGuard, check_header_text
from cogate.policies.redact import Outcome, Redaction
from cogate.policies.restore import VaultRestorer
from cogate.policies.routing import StickyRoutes, Why, findings_of, found_name, lazily
from cogate.policies.schema import (
    Policy,
    Route,
    RouteMatch,
    check_policy,
    load_policy,
    policy_of,
    resolve_reference,
)
from cogate.policies.signed_blocks import SignedBlocks, caller_of
from cogate.policies.vault.backends import VaultBackends, open_vault_backends
from cogate.policies.vault.chains import StoredIdsBackend
from cogate.policies.vault.conversations import ConversationVaults
from cogate.policies.vault.memory import Vault, VaultBackend
from cogate.policies.vault.quotas import Quotas

HASH_KEY_FILE = "pseudonym-hash.key"


class Privacy:
    def __init__(self, settings: Settings, backends: VaultBackends | None = None) -> None:
        """`backends` are the vaults the composition root opened (on the database it shares
        with the ledger); without them, they are opened from the settings."""
        self.settings = settings
        self.policy = load_policy(settings.policy)
        self.cache = AnalysisCache()
        self.ner = ner_isolation(settings.ner_isolation)
        if backends is None:
            backends = open_vault_backends(
                settings.database_url, settings.data_dir / "keys", Quotas.from_settings(settings)
            )
        self.vaults: VaultBackend = backends.vaults
        self.stored: StoredIdsBackend = backends.stored
        self.conversations = ConversationVaults(backends)
        # Signed blocks relayed to each caller: only those go back byte for byte.
        self.signed = SignedBlocks.in_data_dir(settings.data_dir)
        self._detectors: dict[str, Detector] = {}
        self._detectors_lock = threading.Lock()
        self._hash_key: bytes | None = None
        self._hash_lock = threading.Lock()
        self.labels = LabelGuard(self.hash_key())
        # Each route's effective policy, loaded now so a broken route fails at start-up.
        self.routes = route_policies(self.policy, settings.policy)
        # Content hashes of the policies this engine holds (asked for on every request).
        self._hashes = {
            id(p): p.content_hash() for p in [self.policy, *(r[2] for r in self.routes)]
        }
        self.sticky = StickyRoutes()
        # Entity types the routes' `found` name beyond what the base policy acts on: then
        # the findings are read with every type the engine knows.
        wanted = {found_name(n) for r, _, _ in self.routes for n in (r.match.found or ()) if n}
        self._found_all_types = bool(
            {w for w in wanted if not w.startswith("category:")}
            - set(self.detector(self.policy).entities)
        )
        # Load everything lazy now (spaCy, the suffix list behind email checks), not on the
        # first request.
        self.detector(self.policy).raw("Warm-up: Jane Doe (jane.doe@example.com) in Paris.")
        self.labels.clean("default", self.detector(self.policy))  # the label most requests carry

    # -- policies ---------------------------------------------------------------------

    def reload(self) -> Policy:
        """Load the policy file again (with its routes' policies) and apply it to the next
        request; raises PolicyError and keeps the policy in force when the file is invalid."""
        policy = check_policy(self.settings.policy)
        routes = route_policies(policy, self.settings.policy)
        hashes = {id(p): p.content_hash() for p in [policy, *(r[2] for r in routes)]}
        # Old entries stay: a request resolved just before the swap still finds its hash.
        self._hashes = {**self._hashes, **hashes}
        self.detector(policy).raw("Warm-up: Jane Doe (jane.doe@example.com) in Paris.")
        self.routes, self.policy = routes, policy
        return policy

    def detector(self, policy: Policy, *, all_types: bool = False) -> Detector:
        """The policy's detector (one per policy content); `all_types` finds every type the
        engine knows, whatever the policy's action for it."""
        key = ("all:" if all_types else "") + (
            self._hashes.get(id(policy)) or policy.content_hash()
        )
        with self._detectors_lock:
            detector = self._detectors.get(key)
            if detector is None:
                detector = Detector(policy, self.cache, all_types=all_types, ner=self.ner)
                self._detectors[key] = detector
            return detector

    def policy_for(self, ex: Exchange) -> Policy:
        """The exchange's policy: the resolve stage's choice (resolved here only when a
        caller — a test, a benchmark — sanitizes an exchange that skipped that stage)."""
        if ex.policy is None:
            self.resolve(ex)
        return policy_of(ex)

    def detection_status(self) -> dict[str, Any]:
        """What /cogate/health says about detection: where NER runs, and its worker."""
        detector = self.detector(self.policy)
        status: dict[str, Any] = {"ner_isolation": self.ner}
        if detector.ner_worker is not None:
            status["ner_worker"] = detector.ner_worker.status()
        if detector.free_cores is not None:  # `auto`: texts kept here while cores were busy
            free = detector.free_cores.free
            status["cores"] = {
                "free": None if free is None else round(free, 2),
                "texts_read_here": detector.free_cores.busy_texts,
            }
        return status

    def private_spans(self, ex: Exchange, text: str) -> list[tuple[str, int, int]]:
        """Entities of every type the engine knows in a private-context text (types the
        policy keeps included: an employer named in a profile must not leave either)."""
        detector = self.detector(self.policy_for(ex), all_types=True)
        return [(s.entity_type, s.start, s.end) for s in detector.detect(text, acting_only=False)]

    def destination_host(self, ex: Exchange) -> str:
        if ex.destination_host:
            return ex.destination_host.lower()
        # The upstream this surface sends to (Messages: the Anthropic upstream), so a route's
        # `host` names where the bytes really go.
        api = ex.surface.upstream if ex.surface is not None else "openai"
        return (urlsplit(self.settings.upstream_for(None, api)).hostname or "").lower()

    def resolve_detects(self, ex: Exchange) -> bool:
        """Whether choosing this policy may detect or look a conversation up (then the
        resolve stage runs off the event loop)."""
        return any(r.match.found or r.sticky for r, _, _ in self.routes)

    def choose(
        self,
        app: str | None,
        host: str,
        model: str | None,
        found: Callable[[], frozenset[str]] | None = None,
        sticky: str | None = None,
    ) -> tuple[Why | None, str, Policy]:
        """(why a route applied, or None for the base policy; policy id; policy)."""
        return choose_route(self.policy, self.routes, app, host, model, found, sticky)

    def _found(self, ex: Exchange) -> frozenset[str]:
        detector = self.detector(self.policy, all_types=self._found_all_types)
        return findings_of(ex, detector)

    def resolve(self, ex: Exchange) -> None:
        """Scan the exchange's labels; choose its policy and mode."""
        # Until scanned, a label must not reach a log line (a failing stage logs the exchange).
        declared, ex.app = ex.app, "(unscanned)"
        detector = self.detector(self.policy)
        ex.app = self.labels.clean(declared, detector)
        check_header_text(ex.app_headers, SCANNED_HEADERS, detector)
        if ex.bound_apps is not None:
            ex.identity = self.labels.clean(ex.identity, detector)
        app = ex.routed_app = routing_app(declared, ex.bound_apps)
        key = self.conversation_key(ex) if self.resolve_detects(ex) else None
        why, policy_id, policy = self.choose(
            app,
            self.destination_host(ex),
            ex.model,
            found=lazily(lambda: self._found(ex)),
            sticky=self.sticky.get(key) if key is not None else None,
        )
        ex.policy_route = why.route if why else None
        if why is not None:
            ex.policy_route_reason = why.reason
            ex.response_headers["x-cogate-route"] = why.header()
            if key is not None and self._is_sticky(why.route):
                self.sticky.keep(key, why.route)
                self.conversations.follow(ex)  # a Responses chain of its answers sticks too
        ex.policy = policy
        ex.policy_id = policy_id
        ex.policy_hash = self._hashes[id(policy)]
        ex.mode = stricter(policy.mode, ex.requested_mode)
        # A credential the request carries for a third party (an MCP server's token) is
        # forwarded but masked in the ledger's copy of the body, which is still stored.
        ex.store_body = policy.store_body
        ex.credentials = credentials(ex.surface, ex.op, ex.body)
        # Whatever the mode: stored ids named must be the caller's, new ones within quota.
        self.conversations.admit(ex)

    def _is_sticky(self, name: str) -> bool:
        return any(
            route.sticky and (route.name or f"routes[{i}]") == name
            for i, (route, _, _) in enumerate(self.routes)
        )

    # -- sanitising -------------------------------------------------------------------

    def conversation_key(self, ex: Exchange) -> str:
        """The key of the exchange's vault (see `ConversationVaults`)."""
        return self.conversations.key(ex)

    def vault(self, ex: Exchange) -> Vault:
        return self.conversations.vault(ex)

    def hash_key(self) -> bytes:
        """The installation's key for the `hash` action, created on first use (mode 0600)."""
        with self._hash_lock:
            if self._hash_key is None:
                self._hash_key = _load_or_create_key(Path(self.settings.data_dir) / HASH_KEY_FILE)
            return self._hash_key

    def _redaction(self, ex: Exchange, outcome: Outcome) -> Redaction:
        policy = self.policy_for(ex)
        needs_key = "hash" in policy.actions.values()
        return Redaction(
            policy,
            ex.policy_id,
            self.detector(policy),
            self.vault(ex),
            self.hash_key() if needs_key else None,
            outcome,
            relayed=functools.partial(self.signed.knows, caller_of(ex)),
        )

    def sanitize(self, ex: Exchange) -> None:
        """Transform the request for its mode (redact, passthrough, block)."""
        self.policy_for(ex)
        if signs_blocks(ex.surface):
            ex.on_signed = functools.partial(self.signed.remember, caller_of(ex))
        if ex.mode == "passthrough":
            ex.outbound = ex.raw  # byte for byte what the app sent
            return
        if ex.mode == "block":
            raise PolicyBlocked(
                f"the policy {ex.policy_id!r} blocks requests from app {ex.app!r}; "
                "change its `mode` or `routes` to allow them"
            )
        if ex.mode != "redact":
            return  # sketch, logits, local: the collaboration runners take it from here
        if ex.surface is None:
            raise TypeError("the exchange has no surface to walk its fields; ingress sets one")
        outcome = Outcome()
        redaction = self._redaction(ex, outcome)
        ex.vault_in_use = len(redaction.vault) > 0
        with _noted(ex, outcome):
            ex.outbound = ex.surface.rewrite(ex.op, ex.raw, ex.body, redaction)
        ex.restorer = VaultRestorer(redaction.vault, policy_of(ex).restore.url_hosts)

    def sanitize_text(self, ex: Exchange, text: str, field: str) -> str:
        """Redact one free text with the exchange's policy and conversation vault."""
        outcome = Outcome()
        redaction = self._redaction(ex, outcome)
        with _noted(ex, outcome):
            result = redaction.text(text, field)
        if not isinstance(ex.restorer, VaultRestorer):
            ex.restorer = VaultRestorer(redaction.vault, redaction.policy.restore.url_hosts)
        return result


@contextmanager
def _noted(ex: Exchange, outcome: Outcome) -> Iterator[None]:
    """What a redaction found goes onto the exchange, also when the policy refuses the
    request half-way: the refusal entry and the log line name the types found."""
    try:
        yield
    finally:
        ex.findings.extend(outcome.findings)
        ex.findings.extend(outcome.blocked)
        ex.removed.extend(outcome.removed)


def routing_app(declared: str, bound: tuple[str, ...] | None) -> str | None:
    """The app a request's routes see: the header in personal mode, a bound app otherwise.

    On a shared gateway `x-cogate-app` is a label only; it may pick among the token's own
    apps, never reach another app's route (nor escape its own by being left out).
    """
    if bound is None or declared in bound:
        return declared
    if len(bound) == 1:
        return bound[0]
    if not bound:
        return None  # a token bound to no app: routes that match on `app` never apply
    raise BadRequest(
        f"this token is bound to the apps {', '.join(bound)}; send x-cogate-app naming one",
        param="x-cogate-app",
    )


def route_policies(policy: Policy, where: Path | str | None) -> list[tuple[Route, str, Policy]]:
    """Each route of `policy` with its effective policy (id, policy), loaded now so a broken
    route fails at start-up; `where` is the policy's file (routes name files beside it)."""
    out = []
    for index, route in enumerate(policy.routes):
        label = route.name or f"routes[{index}]"
        target = policy
        if route.policy is not None:
            base = None if where is None else resolve_reference(str(where), None)
            target = load_policy(resolve_reference(route.policy, base))
        changes: dict[str, Any] = {"routes": [], "name": f"{policy.name}/{label}"}
        if route.mode is not None:
            changes["mode"] = route.mode
        effective = Policy.model_validate({**target.model_dump(), **changes})
        out.append((route, effective.name, effective))
    return out


def choose_route(
    base: Policy,
    routes: list[tuple[Route, str, Policy]],
    app: str | None,
    host: str,
    model: str | None,
    found: Callable[[], frozenset[str]] | None = None,
    sticky: str | None = None,
) -> tuple[Why | None, str, Policy]:
    """(why a route applied, or None for the base policy; policy id; policy). `found` gives
    what the request holds (called only when a route asks); `sticky` is the sticky route
    its conversation took before, which wins over every other route."""
    for index, (route, policy_id, policy) in enumerate(routes):
        name = route.name or f"routes[{index}]"
        if sticky is not None and name == sticky:
            return Why(name, "sticky"), policy_id, policy
    for index, (route, policy_id, policy) in enumerate(routes):
        name = route.name or f"routes[{index}]"
        if not _matches(route.match, app=app, host=host, model=model):
            continue
        if route.match.found is None:
            return Why(name, "match"), policy_id, policy
        held = found() if found is not None else frozenset()
        hits = [n for n in route.match.found if found_name(n) in held]
        if hits:
            return Why(name, "found:" + ",".join(hits)), policy_id, policy
    return None, base.name, base


def _matches(match: RouteMatch, *, app: str | None, host: str, model: str | None) -> bool:
    for pattern, value in ((match.app, app), (match.host, host)):
        if pattern is None:
            continue
        if value is None or not fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return False
    if match.model is None:
        return True
    pattern = match.model.lower()
    return model is not None and any(fnmatch.fnmatchcase(m, pattern) for m in model_names(model))


def model_names(model: str) -> list[str]:
    """The names a `model` route pattern is tried against: the model as sent, then without
    each leading provider prefix (`azure/openai/gpt-4o` → `openai/gpt-4o`, `gpt-4o`), so a
    prefix the upstream ignores or routes by cannot step around a route written for the
    bare name. Lower-cased, as every route match is."""
    parts = model.lower().split("/")
    return ["/".join(parts[i:]) for i in range(len(parts)) if parts[i]]


def _load_or_create_key(path: Path) -> bytes:
    """The installation's key for the `hash` action; every gateway process gets the same one."""
    private_dir(path.parent)
    return create_once(path, secrets.token_bytes(32))
