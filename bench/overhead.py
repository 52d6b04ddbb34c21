"""Latency the gateway adds in passthrough, measured against a direct call in the same run.

Starts a fast local upstream and `cogate serve` (policy `mode: passthrough`), then alternates
direct and gateway requests so machine noise hits both alike. Prints p50/p99 of plain and
streamed requests, time to first token, and the added figures and ratios.

Run: .venv/bin/python bench/overhead.py [--requests N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.servers import cogate_server, free_port, stop, wait_ready  # noqa: E402

CHAT = {"model": "bench", "messages": [{"role": "user", "content": "Say ok."}]}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def plain(client: httpx.Client, base: str) -> float:
    start = time.perf_counter()
    response = client.post(f"{base}/chat/completions", json=CHAT)
    response.raise_for_status()
    return (time.perf_counter() - start) * 1000


def streamed(client: httpx.Client, base: str) -> tuple[float, float]:
    start = time.perf_counter()
    first = None
    with client.stream("POST", f"{base}/chat/completions", json={**CHAT, "stream": True}) as response:
        for _ in response.iter_raw():
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return (first - start) * 1000, (end - start) * 1000


def measure(direct: str, gateway: str, n: int) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {
        k: {"direct": [], "gateway": []} for k in ("plain", "ttft", "stream")
    }
    with httpx.Client(trust_env=False, timeout=30) as client:
        for base in (direct, gateway):  # warm both paths
            for _ in range(20):
                plain(client, base)
                streamed(client, base)
        for _ in range(n):
            for name, base in (("direct", direct), ("gateway", gateway)):
                figures["plain"][name].append(plain(client, base))
                ttft, total = streamed(client, base)
                figures["ttft"][name].append(ttft)
                figures["stream"][name].append(total)
    return figures


def report(figures: dict[str, dict[str, list[float]]]) -> str:
    lines = [
        "| measure | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | ratio p50 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in (("plain", "plain request"), ("stream", "streamed request (20 events)"),
                        ("ttft", "time to first token")):
        d, g = figures[name]["direct"], figures[name]["gateway"]
        d50, g50, d99, g99 = pct(d, 0.5), pct(g, 0.5), pct(d, 0.99), pct(g, 0.99)
        lines.append(
            f"| {label} | {d50:.2f} ms | {g50:.2f} ms | {g50 - d50:+.2f} ms | {d99:.2f} ms | "
            f"{g99:.2f} ms | {g99 - d99:+.2f} ms | {g50 / d50:.2f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        log = work / "upstream.log"
        with log.open("wb") as out:
            upstream_proc = subprocess.Popen(
                [sys.executable, str(REPO / "bench" / "fast_upstream.py"), str(port)],
                stdout=out, stderr=subprocess.STDOUT,
            )
        direct = f"http://127.0.0.1:{port}/v1"
        try:
            wait_ready(f"{direct}/models", upstream_proc, log)
            policy = work / "passthrough.yaml"
            policy.write_text("mode: passthrough\n")
            with cogate_server(work, direct, args=["--policy", str(policy)]) as gateway:
                figures = measure(direct, gateway, args.requests)
        finally:
            stop(upstream_proc)
    print(f"passthrough overhead, {args.requests} requests per path, interleaved")
    print(report(figures))
    print("targets: added p50 <= 2 ms (plain), added time to first token <= 1 ms")


if __name__ == "__main__":
    main()
