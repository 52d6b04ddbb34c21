"""OpenAI Models: `GET /v1/models`, forwarded as is (no body to scan)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cogate.core.surface import Operation, Scanner
from cogate.core.wire import encode_json

from .openai import OpenAISurface


class ModelsSurface(OpenAISurface):
    name = "openai.models"
    operations: Sequence[Operation] = (
        Operation("GET", "/v1/models", "models.list", scanned=False),
    )

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        return encode_json(body) if body else b""


SURFACE = ModelsSurface()
