"""One module per wire API the gateway serves; `SURFACES` is the list the app is built from.

Adding an API: write a module with a `SURFACE` implementing `cogate.core.surface.Surface`
and add it to `SURFACES`. The pipeline, the privacy engine and the ledger need no change.
"""

from __future__ import annotations

from typing import Any

from cogate.core.exchange import Exchange
from cogate.core.surface import Operation, Surface
from cogate.core.wire import encode_json

from . import anthropic_messages, chat, completions, embeddings, models, openai_responses

SURFACES: list[Surface] = [
    chat.SURFACE,
    completions.SURFACE,
    embeddings.SURFACE,
    models.SURFACE,
    openai_responses.SURFACE,
    anthropic_messages.SURFACE,
]

__all__ = ["SURFACES", "exchange_for", "operation_at", "upstream_route"]


def upstream_route(surface: Surface, path: str) -> str:
    """The path under the surface's base URL: the gateway path without `strip_prefix`."""
    if surface.strip_prefix and path.startswith(surface.strip_prefix):
        path = path[len(surface.strip_prefix) :]
    return path.lstrip("/")


def operation_at(path: str, method: str = "POST") -> tuple[Surface, Operation]:
    """The surface and operation serving a (parameter-free) gateway route."""
    for surface in SURFACES:
        for operation in surface.operations:
            if operation.path == path and operation.method == method:
                return surface, operation
    raise KeyError(f"no surface serves {method} {path}")


def exchange_for(route: str, body: dict[str, Any], **fields: Any) -> Exchange:
    """An exchange as ingress builds it for `/v1/{route}` (tests and benchmarks)."""
    method = "GET" if route == "models" else "POST"
    surface, operation = operation_at(f"/v1/{route}", method)
    return Exchange(
        route=route,
        body=body,
        surface=surface,
        op=operation.name,
        method=method,
        raw=encode_json(body) if method == "POST" else b"",
        **fields,
    )
