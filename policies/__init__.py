"""cogate's privacy engine: policies, detection over every outbound field, reversible
redaction and streaming-safe restoration.

Names are imported on first use: `cogate --help` should not load Presidio and spaCy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Privacy": ".privacy",
    "Detector": ".detect.engine",
    "Span": ".detect.engine",
    "VaultRestorer": ".restore",
    "HeldText": ".restore",
    "Policy": ".schema",
    "PolicyError": ".schema",
    "PrivateContext": ".schema",
    "load_policy": ".schema",
    "Section": ".sections",
    "private_sections": ".sections",
    "split_private": ".sections",
    "Vault": ".vault.memory",
    "VaultStore": ".vault.memory",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value
