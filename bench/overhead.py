"""Latency the gateway adds in passthrough, measured against a direct call in the same run.

Starts a fast local upstream and `cogate serve` (policy `mode: passthrough`), then alternates
direct and gateway requests so machine noise hits both alike. Prints p50/p99 of plain and
streamed requests, time to first token, and the added figures and ratios.

Run: .venv/bin/python bench/overhead.py [--requests N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import fast_upstream  # the sibling module: scripts run as `python bench/NAME.py`
import httpx
from cogate.proxy.servers import cogate_server

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
    with client.stream(
        "POST", f"{base}/chat/completions", json={**CHAT, "stream": True}
    ) as response:
        for _ in response.iter_raw():
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return (first - start) * 1000, (end - start) * 1000


RESPONSES = {"model": "bench", "input": "Say ok.", "stream": True}


def responses_streamed(client: httpx.Client, base: str) -> float:
    """Time to the first Responses event (`response.created`) of a streamed response."""
    start = time.perf_counter()
    with client.stream("POST", f"{base}/responses", json=RESPONSES) as response:
        response.raise_for_status()
        first = None
        for _ in response.iter_raw():
            if first is None:
                first = time.perf_counter()
    return (first - start) * 1000


def measure(paths: dict[str, str], n: int) -> dict[str, dict[str, list[float]]]:
    """Alternate between every path (direct and each gateway) so noise hits them alike."""
    figures: dict[str, dict[str, list[float]]] = {
        k: {name: [] for name in paths} for k in ("plain", "ttft", "stream", "ttfe")
    }
    with httpx.Client(trust_env=False, timeout=30) as client:
        for base in paths.values():  # warm every path
            for _ in range(20):
                plain(client, base)
                streamed(client, base)
        for _ in range(n):
            for name, base in paths.items():
                figures["plain"][name].append(plain(client, base))
                ttft, total = streamed(client, base)
                figures["ttft"][name].append(ttft)
                figures["stream"][name].append(total)
                figures["ttfe"][name].append(responses_streamed(client, base))
    return figures


LABELS = {
    "plain": "plain request",
    "stream": "streamed request (20 events)",
    "ttft": "time to first token",
    "ttfe": "Responses stream: time to first event",
}


def report(figures: dict[str, dict[str, list[float]]]) -> str:
    lines = [
        "| measure | path | p50 | p99 | added p50 | added p99 | ratio p50 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in LABELS.items():
        direct = figures[name]["direct"]
        d50, d99 = pct(direct, 0.5), pct(direct, 0.99)
        lines.append(f"| {label} | direct | {d50:.2f} ms | {d99:.2f} ms | | | |")
        for path, values in figures[name].items():
            if path == "direct":
                continue
            g50, g99 = pct(values, 0.5), pct(values, 0.99)
            lines.append(
                f"| {label} | {path} | {g50:.2f} ms | {g99:.2f} ms | {g50 - d50:+.2f} ms | "
                f"{g99 - d99:+.2f} ms | {g50 / d50:.2f}× |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with fast_upstream.running(work) as direct:
            policy = work / "passthrough.yaml"
            policy.write_text("mode: passthrough\n")
            flags = ["--policy", str(policy)]
            # The same gateway twice: ledger on the work disk (one fsync per egress entry,
            # as deployed) and on /dev/shm (the gateway's own cost without the disk flush).
            with (
                tempfile.TemporaryDirectory(dir="/dev/shm") as shm,
                cogate_server(work, direct, args=flags) as on_disk,
                cogate_server(work, direct, args=flags, data_dir=Path(shm)) as in_memory,
            ):
                figures = measure(
                    {
                        "direct": direct,
                        "gateway (ledger on disk)": on_disk,
                        "gateway (ledger on tmpfs)": in_memory,
                    },
                    args.requests,
                )
    print(f"passthrough overhead, {args.requests} requests per path, interleaved")
    print(report(figures))
    print("targets: added p50 <= 2 ms (plain), added time to first token <= 1 ms")


if __name__ == "__main__":
    main()
