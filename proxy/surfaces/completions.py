"""OpenAI Completions (legacy): `POST /v1/completions`; `prompt` is text or token ids."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from cogate.core.surface import Operation, Scanner
from cogate.policies.contract import Node
from cogate.policies.fields import inputs

from .openai import OpenAISurface, api_contract, rewrite_fields


class CompletionsSurface(OpenAISurface):
    name = "openai.completions"
    operations: Sequence[Operation] = (Operation("POST", "/v1/completions", "completions.create"),)

    def rewrite(self, op: str, raw: bytes, body: dict[str, Any], scanner: Scanner) -> bytes:
        return rewrite_fields(body, scanner, CONTRACT())


@cache
def CONTRACT() -> Node:  # noqa: N802  (built once, on first use)
    return api_contract("completions", {"prompt": inputs})


SURFACE = CompletionsSurface()
