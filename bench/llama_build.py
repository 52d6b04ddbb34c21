"""Decode and prefill tokens/s of SmolLM2 under two llama.cpp builds (portable vs native).

Each measurement runs in a child process of the build's own Python, so a build that dies
(SIGILL on a CPU whose hypervisor traps AMX) is reported as such instead of killing the
benchmark. Runs alternate between the builds and the best of each is kept (a shared,
noisy machine: the best run is the one least disturbed by other jobs).

    .venv/bin/python bench/llama_build.py --other bench/out/native-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

from cogate.collab.model_files import embedded_model_path

# The children: one decodes greedily from a one-token prompt (every batch holds one token),
# the other prefills a long prompt in one batch. They run apart because a build may handle
# one-token batches and die on larger ones (the matrix kernels differ).
DECODE = """
import json, sys, time
from llama_cpp import Llama
model, threads, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
llm = Llama(model_path=model, n_ctx=2048, n_threads=threads, n_threads_batch=threads,
            verbose=False)
first = llm.tokenize(b"Once", add_bos=False)[:1]
for n, token in enumerate(llm.generate(first, temp=0.0)):  # warm-up
    if n >= 3:
        break
start = time.perf_counter()
for n, token in enumerate(llm.generate(first, temp=0.0, reset=True)):
    if n + 1 >= tokens:
        break
print(json.dumps({"decode_tps": tokens / (time.perf_counter() - start)}))
"""
PREFILL = """
import json, sys, time
from llama_cpp import Llama
model, threads, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
llm = Llama(model_path=model, n_ctx=2048, n_batch=512, n_threads=threads,
            n_threads_batch=threads, verbose=False)
words = b"the quick brown fox jumps over the lazy dog while the band plays on " * 200
prompt = llm.tokenize(words)[:tokens]
llm.eval(prompt[:8])  # warm-up
llm.reset()
start = time.perf_counter()
llm.eval(prompt)
print(json.dumps({"prefill_tps": len(prompt) / (time.perf_counter() - start)}))
"""


def measure(python: str, code: str, threads: int, tokens: int) -> dict[str, float] | str:
    argv = [python, "-c", code, str(embedded_model_path()), str(threads), str(tokens)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if done.returncode < 0:
        return f"dies with {signal.Signals(-done.returncode).name}"
    if done.returncode != 0:
        return f"exits {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_flags(python: str) -> str:
    stamp = Path(python).parent.parent / ".llama-build"
    return stamp.read_text().split()[0] if stamp.is_file() else "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, help="python of the venv with the other build")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--prompt", type=int, default=512)
    parser.add_argument("--decode", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    builds = {"portable (this venv)": sys.executable, "other": args.other}
    kinds = {"prefill_tps": (PREFILL, args.prompt), "decode_tps": (DECODE, args.decode)}
    best: dict[tuple[str, str], float | str] = {}
    for _ in range(args.rounds):
        for name, python in builds.items():
            for kind, (code, tokens) in kinds.items():
                if isinstance(best.get((name, kind)), str):
                    continue  # it died: once is enough
                result = measure(python, code, args.threads, tokens)
                if isinstance(result, str):
                    best[(name, kind)] = result
                else:
                    previous = best.get((name, kind), 0.0)
                    assert isinstance(previous, float)
                    best[(name, kind)] = max(previous, result[kind])
    print(
        f"SmolLM2-135M Q4_1, {args.threads} thread(s), prefill {args.prompt} tokens in one "
        f"batch, decode {args.decode} tokens, best of {args.rounds} interleaved rounds"
    )
    print("| build | stamp | prefill tokens/s | decode tokens/s |")
    print("|---|---|---|---|")
    for name, python in builds.items():
        cells = [best[(name, kind)] for kind in kinds]
        shown = [f"{c:.1f}" if isinstance(c, float) else c for c in cells]
        print(f"| {name} | {build_flags(python)} | {shown[0]} | {shown[1]} |")
    for kind in kinds:
        mine, other = best[("portable (this venv)", kind)], best[("other", kind)]
        if isinstance(mine, float) and isinstance(other, float):
            print(f"portable / other {kind}: {mine / other:.1%}")


if __name__ == "__main__":
    main()
