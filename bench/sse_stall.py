"""How long one huge or hostile stream event holds the gateway (issue 13, class 9).

Relays a 32 MiB SSE event (64 KiB chunks) through the real relay
(`ForwardRunner._relay`: `sse.iter_events` → `ChatStreamRestorer`) with the default event cap
and with no cap, and restores 1 MiB of text built to make a placeholder pattern backtrack.
While each runs, a ticker task on the same event loop records its longest gap: how long
every other client would have been frozen. Prints CPU seconds and that gap.

    .venv/bin/python bench/sse_stall.py
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import anyio
from cogate.core.exchange import Finding
from cogate.policies.restore import VaultRestorer
from cogate.policies.vault.memory import Vault
from cogate.proxy.pipeline import ForwardRunner
from cogate.proxy.surfaces import exchange_for

MIB = 1024 * 1024
VAULT = Vault()
VAULT.pseudonym("PERSON", "Margaret Thornbury")


def event(text: str) -> bytes:
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


async def relay(raw: bytes, limit: int | None) -> tuple[float, float, int]:
    class Upstream:
        async def chunks(self) -> AsyncIterator[bytes]:
            for i in range(0, len(raw), 65536):
                yield raw[i : i + 65536]
                await anyio.sleep(0)

    ex = exchange_for("chat/completions", {"stream": True})
    assert ex.surface is not None
    ex.findings.append(Finding("PERSON", 0, 1, 1.0, "bench"))
    ex.restorer = VaultRestorer(VAULT)
    gap, out, done = 0.0, 0, False

    async def ticker() -> None:
        nonlocal gap
        last = time.perf_counter()
        while not done:
            await anyio.sleep(0.001)
            now = time.perf_counter()
            gap, last = max(gap, now - last), now

    cpu = time.process_time()
    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        async for piece in ForwardRunner(max_event_bytes=limit)._relay(ex, ex.surface, Upstream()):
            out += len(piece)
        done = True
    return time.process_time() - cpu, gap, out


def main() -> None:
    cases = [
        ("32 MiB event, default 1 MiB cap", event("x" * 32 * MIB), 1 * MIB),
        ("32 MiB event, no cap", event(("[PERSON_1] said hi. " * (2 * MIB))[: 32 * MIB]), None),
        ("1 MiB of '[a a a …' (backtracking bait), no cap", event("[a" + " a" * (MIB // 2)), None),
        ("1 MiB of '[a' + spaces, no cap", event("[a" + " " * MIB), None),
    ]
    print(f"{'case':52} {'CPU s':>7} {'longest loop gap s':>19} {'bytes out':>10}")
    for name, raw, limit in cases:
        cpu, gap, out = anyio.run(relay, raw, limit)
        print(f"{name:52} {cpu:7.2f} {gap:19.3f} {out:10d}")


if __name__ == "__main__":
    main()
