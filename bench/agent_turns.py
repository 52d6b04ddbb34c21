"""Detection at agent scale: big tool outputs and a resent system prompt, against stock Presidio.

One run prints:
1. A 64 KB and a 256 KB agent tool output (mostly code and logs, some prose; names and
   e-mails planted in comments, string literals, log messages and prose): cogate's resolve +
   sanitize of a chat request carrying it as a tool message, against stock Presidio's
   analyze + anonymize (`AnalyzerEngine()` defaults on the same spaCy model,
   `AnonymizerEngine()`) of the same text. Growth with size is the 256/64 ratio of each.
2. Recall on the planted values for both: a value counts as found when detected spans
   (any type) cover at least half of its characters.
3. Repeated context: a request with a 40 KB system prompt and history, then the next turn
   resending it with one new short message; the second's time over the first's.

Every text is generated fresh from its own seed, so no timing is a cache hit by accident.

Run: .venv/bin/python bench/agent_turns.py [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from redact_overhead import stock  # noqa: E402  (the same stock engine as the 2 KB bench)

FIRST = ["Maria", "Jonas", "Priya", "Tomasz", "Aisha", "Daniel", "Sofia", "Kenji", "Elena"]
FIRST += ["Lucas", "Fatima", "Oliver", "Ingrid", "Mateo", "Hannah", "Ravi", "Chloe", "Bruno"]
LAST = ["Kowalski", "Fernandes", "Lindqvist", "Okafor", "Brennan", "Hartmann", "Moreau"]
LAST += ["Nakamura", "Castillo", "Petrov", "Gallagher", "Schneider", "Whitfield", "Rossi"]
DOMAINS = ["acme-corp.com", "example.org", "mailbox.io", "northwind.net"]
WORDS = [
    "request",
    "handler",
    "cache",
    "buffer",
    "retry",
    "timeout",
    "config",
    "parser",
    "token",
    "stream",
    "queue",
    "worker",
    "session",
    "index",
    "offset",
    "payload",
    "schema",
    "record",
    "batch",
    "client",
    "server",
    "thread",
    "lock",
]


class Planter:
    """Builds a text piece by piece and remembers where each planted value is."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.parts: list[str] = []
        self.size = 0
        self.planted: list[tuple[int, int, str]] = []  # start, end, kind

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def plant(self, value: str, kind: str) -> None:
        self.planted.append((self.size, self.size + len(value), kind))
        self.add(value)

    def name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def email_for(self, name: str) -> str:
        first, last = name.lower().split()
        return f"{first}.{last}@{self.rng.choice(DOMAINS)}"

    def text(self) -> str:
        return "".join(self.parts)


def code_block(p: Planter) -> None:
    """A Python function; sometimes a name in a comment or string literal."""
    rng = p.rng
    fn, arg = rng.choice(WORDS), rng.choice(WORDS)
    p.add(f"def {fn}_{rng.randint(1, 999)}({arg}, limit={rng.randint(1, 64)}):\n")
    if rng.random() < 0.25:
        name = p.name()
        p.add("    # TODO(")
        p.plant(name, "PERSON")
        p.add("): handle the empty case before release\n")
    p.add(f"    total = sum(x.{rng.choice(WORDS)} for x in {arg} if x is not None)\n")
    p.add(f"    if total > limit * {rng.randint(2, 9)}:\n")
    if rng.random() < 0.2:
        name = p.name()
        p.add('        notify(owner="')
        p.plant(name, "PERSON")
        p.add('", email="')
        p.plant(p.email_for(name), "EMAIL")
        p.add('")\n')
    p.add(f"        raise ValueError(f'{fn} overflow: {{total}}')\n")
    p.add(f"    return [{arg}[i] for i in range(0, len({arg}), {rng.randint(2, 16)})]\n\n")


def log_block(p: Planter) -> None:
    """A few log lines; sometimes a user's e-mail or name in the message."""
    rng = p.rng
    for _ in range(rng.randint(3, 8)):
        ts = f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        level = rng.choice(["INFO", "DEBUG", "WARN", "ERROR"])
        p.add(f"{ts}:{rng.randint(10, 59)}.{rng.randint(100, 999)}Z {level} ")
        p.add(f"[{rng.choice(WORDS)}.{rng.choice(WORDS)}] pid={rng.randint(1000, 9999)} ")
        roll = rng.random()
        if roll < 0.12:
            name = p.name()
            p.add("login ok for ")
            p.plant(p.email_for(name), "EMAIL")
            p.add(f" in {rng.randint(1, 900)}ms\n")
        elif roll < 0.2:
            p.add("ticket reassigned to ")
            p.plant(p.name(), "PERSON")
            p.add(f" (queue {rng.choice(WORDS)})\n")
        else:
            w1, w2 = rng.choice(WORDS), rng.choice(WORDS)
            p.add(f"{w1} {w2} latency_ms={rng.randint(1, 500)} bytes={rng.randint(10, 99999)}\n")


def prose_block(p: Planter) -> None:
    """A short paragraph of the kind agents read in READMEs and issue threads."""
    rng = p.rng
    name = p.name()
    p.add("As discussed with ")
    p.plant(name, "PERSON")
    p.add(
        f", the {rng.choice(WORDS)} layer should not retry on a closed {rng.choice(WORDS)}. "
        "Please send questions to "
    )
    p.plant(p.email_for(name), "EMAIL")
    p.add(" before Friday; the rollout plan is in the design document.\n\n")


def agent_output(size: int, seed: int) -> Planter:
    """About `size` characters: ~60 % code, ~30 % logs, ~10 % prose, values planted."""
    p = Planter(seed)
    while p.size < size:
        roll = p.rng.random()
        if roll < 0.6:
            code_block(p)
        elif roll < 0.9:
            log_block(p)
        else:
            prose_block(p)
    return p


def recall(planted: list[tuple[int, int, str]], spans: list[tuple[int, int]]) -> float:
    found = 0
    for start, end, _kind in planted:
        covered = set()
        for s, e in spans:
            covered.update(range(max(s, start), min(e, end)))
        found += len(covered) * 2 >= end - start
    return found / len(planted)


def cogate_engine(workdir: Path):
    from cogate.core.settings import Settings
    from cogate.policies import Privacy
    from cogate.proxy.surfaces import exchange_for

    policy = workdir / "bench.yaml"
    policy.write_text(
        "mode: redact\nactions: {default: pseudonymize, CREDIT_CARD: "
        "pseudonymize, SECRET: pseudonymize}\n"
    )
    privacy = Privacy(Settings(data_dir=workdir / "data", policy=policy))

    def run(messages: list[dict], conversation: str) -> None:
        ex = exchange_for(
            "chat/completions", {"model": "m", "messages": messages}, conversation=conversation
        )
        privacy.resolve(ex)
        privacy.sanitize(ex)

    return privacy, run


def tool_turn(text: str) -> list[dict]:
    call = {"id": "call_1", "type": "function", "function": {"name": "shell", "arguments": "{}"}}
    return [
        {"role": "user", "content": "Run the tests and tell me what failed."},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": text},
    ]


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def large_turns(run_cogate, run_stock, privacy, sizes, rounds):
    """{size: (cogate s, stock s, cogate recall, stock recall)} (medians, mean recalls)."""
    out = {}
    detector = privacy.detector(privacy.policy)
    for size in sizes:
        ours, theirs, rec_ours, rec_theirs = [], [], [], []
        for r in range(rounds):
            p = agent_output(size, seed=size * 100 + r)
            text = p.text()
            ours.append(timed(run_cogate, tool_turn(text), f"agent-{size}-{r}"))
            started = time.perf_counter()
            results = run_stock(text)
            theirs.append(time.perf_counter() - started)
            rec_ours.append(recall(p.planted, [(s.start, s.end) for s in detector.detect(text)]))
            rec_theirs.append(recall(p.planted, [(x.start, x.end) for x in results]))
            planted = len(p.planted)
        out[size] = (
            statistics.median(ours),
            statistics.median(theirs),
            statistics.mean(rec_ours),
            statistics.mean(rec_theirs),
            planted,
        )
    return out


def repeated_context(run_cogate, rounds: int) -> tuple[float, float]:
    """Median (first request, second request) seconds for a resent 40 KB prompt + history."""
    firsts, seconds = [], []
    for r in range(rounds):
        system = agent_output(30_000, seed=7000 + r).text()
        history = tool_turn(agent_output(10_000, seed=8000 + r).text())
        messages = [{"role": "system", "content": system}, *history]
        firsts.append(timed(run_cogate, messages, f"repeat-{r}"))
        messages = [*messages, {"role": "user", "content": "Now fix the first failure."}]
        seconds.append(timed(run_cogate, messages, f"repeat-{r}"))
    return statistics.median(firsts), statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave start-up's objects to the collector"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        privacy, run_cogate = cogate_engine(Path(tmp))
        run_stock = stock()
        warm = agent_output(4_000, seed=1).text()
        run_stock(warm)
        run_cogate(tool_turn(warm), "warm")
        if not args.no_freeze:
            gc.freeze()  # as `cogate serve` does after start-up (stock's objects frozen too)
        pauses = full_collections()
        sizes = (64 * 1024, 256 * 1024)
        large = large_turns(run_cogate, run_stock, privacy, sizes, args.rounds)
        first, second = repeated_context(run_cogate, args.rounds)

    print(f"agent tool output (code/logs/prose), median of {args.rounds} fresh texts per size:")
    print("| size | planted | cogate | stock Presidio | ratio | cogate recall | stock recall |")
    print("|---|---|---|---|---|---|---|")
    for size, (ours, theirs, r_ours, r_theirs, planted) in large.items():
        print(
            f"| {size // 1024} KB | {planted} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | "
            f"{ours / theirs:.3f} | {r_ours:.3f} | {r_theirs:.3f} |"
        )
    (o64, t64, *_), (o256, t256, *_) = large[sizes[0]], large[sizes[1]]
    print(
        f"growth 64 KB -> 256 KB (4x the text): cogate {o256 / o64:.2f}x, stock {t256 / t64:.2f}x"
    )
    print("target: ratio <= 0.20 at both sizes, recall >= stock")
    print(
        f"repeated 40 KB system prompt + history: first {first * 1000:.0f} ms, "
        f"second {second * 1000:.1f} ms, second/first {second / first:.3f} (target <= 0.05)"
    )
    print(
        f"full garbage collections during the run (both engines): {len(pauses)}, longest "
        f"{max(pauses, default=0) * 1000:.0f} ms ({'no ' if args.no_freeze else ''}gc.freeze)"
    )


def full_collections() -> list[float]:
    """The durations of every generation-2 collection from now on (a list that fills)."""
    pauses: list[float] = []
    started: list[float] = []

    def watch(phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pauses.append(time.perf_counter() - started[0])

    gc.callbacks.append(watch)
    return pauses


if __name__ == "__main__":
    main()
