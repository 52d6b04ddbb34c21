"""Collaboration between the cloud model and a local one: the sketch and local modes.

`build_collab(settings, privacy)` gives the gateway its runners (`sketch`, `local`) over one
shared local model (`collab.model`, see `cogate.collab.runtime` for its API, which the
logits mode also builds on).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cogate.core.egress import Runner
from cogate.core.exchange import Sanitizer
from cogate.core.settings import Settings

from .context import Split, split_turns
from .endpoint import Endpoint, RuntimeNotLocal, resolve_endpoint
from .http_model import HttpModel
from .instruction import DEFAULT_REDUCTION, REDUCTIONS, sanitize_instruction
from .local import LocalRunner
from .runtime import Completion, Generation, LocalModel, LocalModelUnavailable, Sampling
from .runtime_api import LocalRuntime
from .sketch import SketchRunner

__all__ = [
    "Collab",
    "Completion",
    "Endpoint",
    "Generation",
    "HttpModel",
    "LocalModel",
    "LocalModelUnavailable",
    "LocalRunner",
    "LocalRuntime",
    "REDUCTIONS",
    "RuntimeNotLocal",
    "Sampling",
    "SketchRunner",
    "Split",
    "build_collab",
    "local_runtime",
    "resolve_endpoint",
    "sanitize_instruction",
    "split_turns",
]


@dataclass
class Collab:
    """The collaboration modes' runners and the local model they share."""

    model: LocalRuntime
    runners: dict[str, Runner] = field(default_factory=dict)
    owns_model: bool = True

    async def aclose(self) -> None:
        if self.owns_model:
            await self.model.aclose()


def local_runtime(settings: Settings, endpoint: Endpoint | None = None) -> LocalRuntime:
    """The user's runtime when `--local-url` names one (its address checked and pinned once:
    pass the `endpoint` serve resolved), else the embedded model."""
    if settings.local_url:
        if endpoint is None:
            endpoint = resolve_endpoint(settings.local_url, settings.local_allow_hosts)
        return HttpModel(endpoint, settings)
    return LocalModel(settings)


def build_collab(
    settings: Settings,
    privacy: Sanitizer,
    *,
    model: LocalRuntime | None = None,
    reduction: str = DEFAULT_REDUCTION,
    endpoint: Endpoint | None = None,
) -> Collab:
    """Runners for `sketch` and `local`. The model loads on first use (`await
    collab.model.ready()` loads it now); pass `model` to share one built elsewhere."""
    owns = model is None
    model = model or local_runtime(settings, endpoint)
    runners: dict[str, Runner] = {
        "sketch": SketchRunner(model, privacy, reduction=reduction),
        "local": LocalRunner(model),
    }
    return Collab(model=model, runners=runners, owns_model=owns)
