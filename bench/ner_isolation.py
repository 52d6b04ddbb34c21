"""What running spaCy's NER in a worker process does to everything else in the gateway.

While one request's detection runs (in a worker thread, as the pipeline runs it), the event
loop keeps serving other requests: this bench measures how late a 1 ms timer on the loop
fires during a 64 KB agent turn's detection, with NER in the gateway (`inline`) and in its
worker process (`process`), alternated in one run. A late timer is what a concurrent
passthrough request waits: the loop needs the GIL, which the detection thread holds.

Run: .venv/bin/python bench/ner_isolation.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from agent_turns import agent_output, tool_turn  # noqa: E402


def engine(workdir: Path, isolation: str):
    from cogate.core.settings import Settings
    from cogate.policies import Privacy
    from cogate.proxy.surfaces import exchange_for

    settings = Settings(data_dir=workdir / isolation, ner_isolation=isolation)
    privacy = Privacy(settings)

    def run(text: str, conversation: str) -> None:
        body = {"model": "m", "messages": tool_turn(text)}
        ex = exchange_for("chat/completions", body, conversation=conversation)
        privacy.resolve(ex)
        privacy.sanitize(ex)

    return run


async def lateness_during(run, text: str, conversation: str) -> tuple[float, list[float]]:
    """(detection's wall time, how late each 1 ms timer fired while it ran)."""
    late: list[float] = []
    started = time.perf_counter()
    job = asyncio.ensure_future(asyncio.to_thread(run, text, conversation))
    while not job.done():
        due = time.perf_counter() + 0.001
        await asyncio.sleep(0.001)
        late.append(max(0.0, time.perf_counter() - due))
    await job
    return time.perf_counter() - started, late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {name: engine(Path(tmp), name) for name in ("inline", "process")}
        for name, run in runs.items():
            run(agent_output(4_000, seed=1).text(), f"warm-{name}")
        gc.freeze()  # as `cogate serve` does after start-up
        walls: dict[str, list[float]] = {name: [] for name in runs}
        late: dict[str, list[float]] = {name: [] for name in runs}
        for round_ in range(args.rounds):
            text = agent_output(64 * 1024, seed=9000 + round_).text()
            for name, run in runs.items():  # the same fresh text for both
                wall, lateness = asyncio.run(lateness_during(run, text, f"{name}-{round_}"))
                walls[name].append(wall)
                late[name].extend(lateness)
    print(f"64 KB agent turn, {args.rounds} fresh texts; a 1 ms timer on the event loop meanwhile:")
    print("| NER | detection wall (median) | timer late p50 | p99 | max |")
    print("|---|---|---|---|---|")
    for name in runs:
        q = statistics.quantiles(late[name], n=100)
        print(
            f"| {name} | {statistics.median(walls[name]) * 1000:.0f} ms "
            f"| {q[49] * 1000:.2f} ms | {q[98] * 1000:.2f} ms | {max(late[name]) * 1000:.1f} ms |"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
