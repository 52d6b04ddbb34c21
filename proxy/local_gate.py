"""`cogate serve`'s start-up gate for the local model: probe the runtime before any traffic.

A probe crash stops the gateway when its policy selects a local mode (sketch, logits, local);
otherwise the gateway starts with those modes disabled and says so in its log and health.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogate.collab.endpoint import Endpoint, RuntimeNotLocal, resolve_endpoint
from cogate.core.settings import Settings

log = logging.getLogger("cogate.local")

LOCAL_MODES = frozenset({"sketch", "logits", "local"})


@dataclass(frozen=True)
class LocalStatus:
    """What /cogate/health reports about the local model."""

    status: str  # "ok" | "disabled" | "missing" (no model file: local modes answer 503)
    reason: str = ""
    # The user's runtime (--local-url) as checked and pinned at start-up; None: embedded.
    endpoint: Endpoint | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, **({"reason": self.reason} if self.reason else {})}


class RuntimeNotAllowed(Exception):
    """--local-url leaves the device and its host was not allowed: serve must not start."""


def check_runtime_url(settings: Settings) -> LocalStatus:
    """Resolve and pin the user's runtime once; raises RuntimeNotAllowed naming the rule."""
    assert settings.local_url is not None
    try:
        endpoint = resolve_endpoint(settings.local_url, settings.local_allow_hosts)
    except RuntimeNotLocal as exc:
        raise RuntimeNotAllowed(f"cogate serve: not starting. {exc}") from None
    if endpoint.remote:
        log.warning(
            "the local model runtime %s is not on this device; every call to it is recorded "
            "in the ledger as an egress",
            endpoint.netloc,
        )
    return LocalStatus("ok", endpoint=endpoint)


class LocalRuntimeBroken(Exception):
    """The probe crashed and the policy needs the local model: serve must not start."""


def policy_modes(policy_file: Path | None) -> set[str]:
    """The modes a policy (and the policies its routes name) selects without any header."""
    from cogate.policies.schema import load_policy, resolve_reference

    policy = load_policy(policy_file)
    modes: set[str] = {policy.mode}
    for route in policy.routes:
        if route.mode is not None:
            modes.add(route.mode)
        elif route.policy is not None:
            modes.add(load_policy(resolve_reference(route.policy, policy_file)).mode)
    return modes


def check_local_runtime(settings: Settings) -> tuple[Settings, LocalStatus]:
    """Probe the runtime; returns the settings to serve with and the status to report.

    Raises LocalRuntimeBroken with the message to print when the policy needs local modes.
    """
    # A later crash of llama.cpp in this process (a signal, no Python exception) must still
    # leave the faulting stack on stderr rather than a silent exit.
    faulthandler.enable(file=sys.stderr, all_threads=True)
    if not settings.local_enabled:
        return settings, LocalStatus("disabled", "COGATE_LOCAL_ENABLED is off")
    if settings.local_url:
        return settings, check_runtime_url(settings)  # no embedded model to probe
    from cogate.collab.model_files import embedded_model_path
    from cogate.collab.runtime_check import probe

    try:
        model = settings.local_model or embedded_model_path()
    except FileNotFoundError as exc:
        # Not a crash: the local modes answer 503 naming the missing package, as before.
        log.warning("no local model: %s", exc)
        return settings, LocalStatus("missing", str(exc))
    result = probe(Path(model))
    if result.ok:
        log.info("local model runtime probe: ok (%s)", Path(model).name)
        return settings, LocalStatus("ok")
    try:
        needed = sorted(policy_modes(settings.policy) & LOCAL_MODES)
    except Exception as exc:  # an unreadable policy: assume it needs the local model
        needed = [f"a mode that could not be read ({type(exc).__name__})"]
    if needed:
        raise LocalRuntimeBroken(
            f"cogate serve: not starting. {result.explain()} The policy selects "
            f"{', '.join(needed)}, which needs the local model.\n"
            f"last lines of the probe:\n{result.tail()}"
        )
    reason = (
        f"start-up probe failed: {result.explain()} The policy selects no local mode, so the "
        "gateway runs with sketch, logits and local disabled (requests for them get 503)."
    )
    log.error("local modes disabled: %s", reason)
    return settings.model_copy(update={"local_enabled": False}), LocalStatus("disabled", reason)
