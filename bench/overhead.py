"""Latency the gateway adds in passthrough, measured against a direct call in the same run.

Starts a fast local upstream and `cogate serve` (policy `mode: passthrough`), then alternates
direct and gateway requests so machine noise hits both alike. Prints p50/p99 of plain and
streamed requests, time to first token, and the added figures and ratios. With
`--concurrency N`, N clients then send plain requests at once (group commit shows only there).

Run: .venv/bin/python bench/overhead.py [--requests N] [--concurrency N] [--only-concurrent]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import threading
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


def concurrent_round(base: str, clients: int, each: int) -> tuple[list[float], float]:
    """`clients` threads, each with its own connection, send `each` plain requests at once;
    returns every latency and the requests per second of the round."""
    latencies: list[float] = []
    lock = threading.Lock()
    go = threading.Barrier(clients + 1)

    def client() -> None:
        with httpx.Client(trust_env=False, timeout=30) as http:
            plain(http, base)  # connect before the round starts
            go.wait()
            mine = [plain(http, base) for _ in range(each)]
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    go.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, clients * each / (time.perf_counter() - start)


def measure_concurrent(
    paths: dict[str, str], clients: int, rounds: int, each: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Rounds alternate between the paths, as the sequential measures do."""
    figures: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in paths}
    for _ in range(rounds):
        for name, base in paths.items():
            latencies, rate = concurrent_round(base, clients, each)
            figures[name][0].extend(latencies)
            figures[name][1].append(rate)
    return figures


def report_concurrent(figures: dict[str, tuple[list[float], list[float]]], clients: int) -> str:
    lines = [
        f"| {clients} concurrent clients, plain | p50 | p99 | added p50 | requests/s (median "
        "round) |",
        "|---|---|---|---|---|",
    ]
    d50 = pct(figures["direct"][0], 0.5)
    for path, (latencies, rates) in figures.items():
        g50, g99 = pct(latencies, 0.5), pct(latencies, 0.99)
        added = "" if path == "direct" else f"{g50 - d50:+.2f} ms"
        lines.append(f"| {path} | {g50:.2f} ms | {g99:.2f} ms | {added} | {pct(rates, 0.5):.0f} |")
    return "\n".join(lines)


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
    parser.add_argument("--concurrency", type=int, default=0, help="clients at once (0: none)")
    parser.add_argument("--rounds", type=int, default=10, help="concurrent rounds per path")
    parser.add_argument("--each", type=int, default=10, help="requests per client per round")
    parser.add_argument("--only-concurrent", action="store_true")
    parser.add_argument(
        "--compare-httpcore",
        action="store_true",
        help="also run both gateways on httpx's own upstream transport (A/B in one run)",
    )
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with fast_upstream.running(work) as direct:
            policy = work / "passthrough.yaml"
            policy.write_text("mode: passthrough\n")
            flags = ["--policy", str(policy)]
            # The same gateway twice: ledger on the work disk (one fsync per egress entry,
            # as deployed) and on /dev/shm (the gateway's own cost without the disk flush);
            # --compare-httpcore adds both on httpx's own upstream transport.
            variants = [("", {}, ("disk", "tmpfs"))]
            if args.compare_httpcore:
                env = {"COGATE_UPSTREAM_TRANSPORT": "httpcore"}
                variants.append((", httpcore", env, ("disk", "tmpfs")))
            with contextlib.ExitStack() as stack:
                paths = {"direct": direct}
                for n, (suffix, env, ledgers) in enumerate(variants):
                    for label in ledgers:
                        data_dir = work / f"data-{n}"
                        if label == "tmpfs":
                            shm = stack.enter_context(tempfile.TemporaryDirectory(dir="/dev/shm"))
                            data_dir = Path(shm)
                        server = cogate_server(work, direct, args=flags, env=env, data_dir=data_dir)
                        paths[f"gateway (ledger on {label}{suffix})"] = stack.enter_context(server)
                if not args.only_concurrent:
                    figures = measure(paths, args.requests)
                    print(f"passthrough overhead, {args.requests} requests per path, interleaved")
                    print(report(figures))
                    print("targets: added p50 <= 2 ms (plain), added time to first token <= 1 ms")
                if args.concurrency > 0:
                    rounds = measure_concurrent(paths, args.concurrency, args.rounds, args.each)
                    print(
                        f"{args.rounds} rounds per path of {args.concurrency} clients x "
                        f"{args.each} plain requests, interleaved"
                    )
                    print(report_concurrent(rounds, args.concurrency))


if __name__ == "__main__":
    main()
