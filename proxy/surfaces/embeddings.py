"""OpenAI Embeddings: `POST /v1/embeddings`; `input` is text or token ids."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from cogate.core.surface import Operation, Scanner
from cogate.policies.contract import Node
from cogate.policies.fields import inputs

from .openai import OpenAISurface, api_contract, rewrite_fields


class EmbeddingsSurface(OpenAISurface):
    name = "openai.embeddings"
    operations: Sequence[Operation] = (Operation("POST", "/v1/embeddings", "embeddings.create"),)

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        return rewrite_fields(body, scanner, CONTRACT())


@cache
def CONTRACT() -> Node:  # noqa: N802  (built once, on first use)
    return api_contract("embeddings", {"input": inputs})


SURFACE = EmbeddingsSurface()
