"""Soak: many concurrent streaming clients through the gateway, with memory over time.

Starts the fast local upstream and `cogate serve` with the shipped default policy (redact),
then runs `--clients` concurrent clients, each sending streamed chat requests with a little
personal data, for `--seconds`. Prints requests/s, error count, p50/p99 latency and the
gateway's resident memory sampled every `--sample` seconds.

Run: .venv/bin/python bench/soak.py [--clients 50] [--seconds 600]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import fast_upstream  # the sibling module: scripts run as `python bench/NAME.py`
import httpx
from cogate.proxy.servers import cogate_server

BODY = {
    "model": "bench",
    "stream": True,
    "messages": [
        {"role": "user", "content": "Remind Dana Whitfield (dana@example.com) of the 3pm call."}
    ],
}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def client_loop(base: str, until: float, latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
        while time.monotonic() < until:
            start = time.perf_counter()
            try:
                async with client.stream("POST", f"{base}/chat/completions", json=BODY) as response:
                    async for _ in response.aiter_raw():
                        pass
                    if response.status_code != 200:
                        errors.append(str(response.status_code))
                        continue
                latencies.append((time.perf_counter() - start) * 1000)
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)


async def soak(base: str, pid: int, clients: int, seconds: float, sample: float) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    start = time.monotonic()
    until = start + seconds
    tasks = [
        asyncio.create_task(client_loop(base, until, latencies, errors)) for _ in range(clients)
    ]
    print("| t (s) | requests so far | requests/s (window) | gateway RSS (MiB) |")
    print("|---|---|---|---|")
    seen = 0
    while time.monotonic() < until:
        await asyncio.sleep(sample)
        done = len(latencies)
        print(
            f"| {time.monotonic() - start:.0f} | {done} | {(done - seen) / sample:.1f} | "
            f"{rss_mib(pid):.1f} |",
            flush=True,
        )
        seen = done
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    ordered = sorted(latencies)
    print(
        f"\n{clients} concurrent streaming clients for {elapsed:.0f} s: "
        f"{len(latencies)} requests, {len(latencies) / elapsed:.1f} requests/s, "
        f"{len(errors)} errors{' ' + str(sorted(set(errors))) if errors else ''}"
    )
    if ordered:
        print(
            f"latency p50 {statistics.median(ordered):.1f} ms, "
            f"p99 {ordered[int(0.99 * (len(ordered) - 1))]:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--sample", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with fast_upstream.running(work) as direct, cogate_server(work, direct) as gateway:
            asyncio.run(soak(gateway, gateway.pid, args.clients, args.seconds, args.sample))


if __name__ == "__main__":
    main()
