"""Twenty tenants on one shared gateway, one of them flooding it with new conversations
(issue 27): do the other nineteen notice?

Starts the fast local upstream and `cogate serve` (shipped redact policy, 20 tokens, a small
vault quota so the flooder reaches its own within the run), in memory mode and on a real
PostgreSQL server. Three phases of `--seconds` each, the same 19 steady tenants in all:

- quiet: the 19 alone, each continuing its own conversation (a name and an e-mail per turn);
- load: plus the 20th tenant at the flooder's concurrency, reusing one conversation (the same
  CPU the flood costs, none of its state);
- flood: plus the 20th sending each request in a conversation of its own.

Prints, per phase, the steady tenants' p50/p95 latency and error rate, the 20th's statuses,
the gateway's RSS and (PostgreSQL) the vault and stored-id rows. A flood that spoiled other
tenants would show as errors or restored-wrong answers for them; it prints them if any.

    .venv/bin/python bench/tenants.py [--seconds 20] [--quota 200] [--flooders 4]
        [--phases quiet,load,flood,quiet] [--modes memory,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo's tests package

import fast_upstream  # noqa: E402 - the sibling module
from cogate.audit.backends import open_tokens  # noqa: E402
from cogate.proxy.servers import cogate_server  # noqa: E402
from soak import rss_mib  # noqa: E402

from tests.pgserver import fresh_database, postgres_server  # noqa: E402

STEADY = 19


def body(i: int, turn: int) -> dict:
    text = f"Turn {turn}: remind Dana Whitfield (dana{i}@example.com) of the 3pm call."
    return {"model": "bench", "messages": [{"role": "user", "content": text}]}


async def tenant(
    base: str, token: str, conversation: str | None, until: float, out: dict, i: int
) -> None:
    """One tenant's loop; `conversation` None: a new conversation per request (the flood)."""
    async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
        turn = 0
        while time.monotonic() < until:
            turn += 1
            conv = conversation or f"flood-{i}-{turn}-{time.monotonic_ns()}"
            headers = {"x-cogate-token": token, "x-cogate-conversation": conv}
            start = time.perf_counter()
            try:
                reply = await client.post(
                    f"{base}/chat/completions", json=body(i, turn), headers=headers
                )
                out["status"][reply.status_code] += 1
                if reply.status_code == 200:
                    out["ms"].append((time.perf_counter() - start) * 1000)
            except httpx.HTTPError as exc:
                out["status"][type(exc).__name__] += 1


async def phase(base: str, tokens: list[str], seconds: float, extra: str, flooders: int) -> dict:
    until = time.monotonic() + seconds
    steady = {"ms": [], "status": Counter()}
    twentieth = {"ms": [], "status": Counter()}
    tasks = [tenant(base, tokens[i], f"steady-{i}", until, steady, i) for i in range(STEADY)]
    if extra != "quiet":
        conv = "one-conversation" if extra == "load" else None
        tasks += [tenant(base, tokens[STEADY], conv, until, twentieth, 100 + j)
                  for j in range(flooders)]  # fmt: skip
    await asyncio.gather(*tasks)
    return {"steady": steady, "twentieth": twentieth}


def pg_rows(url: str | None) -> str:
    if url is None:
        return "-"
    import psycopg

    with psycopg.connect(url) as conn:
        counts = [
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("vaults", "vault_entries", "stored_ids")
        ]
    return "vaults {:,} / entries {:,} / stored ids {:,}".format(*counts)


def run_mode(work: Path, url: str | None, args: argparse.Namespace) -> list[str]:
    data = work / ("pg-data" if url else "mem-data")
    store = open_tokens(data, url)
    tokens = [store.add(f"tenant-{i:02d}", ()) for i in range(STEADY + 1)]
    store.close()
    env = {"COGATE_VAULTS_PER_IDENTITY": str(args.quota), "COGATE_NER_ISOLATION": "inline"}
    flags = ["--database-url", url] if url else []
    rows = []
    with (
        fast_upstream.running(work) as upstream,
        cogate_server(work, upstream, args=flags, env=env, data_dir=data) as gateway,
    ):
        asyncio.run(phase(gateway, tokens, 3, "quiet", 0))  # warm
        for name in args.phases.split(","):
            got = asyncio.run(phase(gateway, tokens, args.seconds, name, args.flooders))
            rows.append(_row("postgres" if url else "memory", name, got, gateway.pid, url))
            print(rows[-1], flush=True)
    return rows


def _row(mode: str, name: str, got: dict, pid: int, url: str | None) -> str:
    ms = sorted(got["steady"]["ms"])
    total = sum(got["steady"]["status"].values())
    bad = total - got["steady"]["status"][200]
    p50 = statistics.median(ms) if ms else float("nan")
    p95 = ms[int(0.95 * (len(ms) - 1))] if ms else float("nan")
    other = dict(got["twentieth"]["status"]) or "-"
    return (
        f"| {mode} | {name} | {total} | {p50:.1f} | {p95:.1f} | {bad / max(total, 1):.2%} | "
        f"{other} | {rss_mib(pid):.0f} | {pg_rows(url)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--quota", type=int, default=200)
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--phases", default="quiet,load,flood,quiet", help="in this order")
    parser.add_argument("--modes", default="memory,postgres")
    args = parser.parse_args()
    print(
        "| vaults | phase | steady requests | p50 ms | p95 ms | steady errors | "
        "20th tenant's statuses | gateway RSS MiB | database rows |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "memory" in args.modes:
            run_mode(work, None, args)
        if "postgres" in args.modes:
            with postgres_server() as server:
                run_mode(work, fresh_database(server), args)


if __name__ == "__main__":
    main()
