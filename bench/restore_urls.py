"""What reading answers for URLs costs restoration: a 2 KB and a 40 KB answer, whole and
streamed, in two trees measured in one run (issue 25).

Each tree runs in its own interpreter (`--tree DIR` names another checkout's venv python,
e.g. the main branch before the change); the runs alternate so machine noise hits both.
Answers are Markdown prose with names, e-mails, links, an image, a table and a code block;
a `plain` variant has placeholders in prose only. Prints the median per answer and ratios.

Run: .venv/bin/python bench/restore_urls.py [--tree /work/main] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

BLOCK = """## Notes for [PERSON_1]

Thanks, [PERSON_1], for the report. I have looked at the [release notes](https://docs.example/notes)
and the ![chart](https://docs.example/chart.png "weekly chart") you sent to [EMAIL_1].

| owner | contact |
|---|---|
| [PERSON_1] | [EMAIL_1] |

- first, check <https://status.example/> before the call;
- then write to [EMAIL_1] with the summary.

```python
client.send(to="[EMAIL_1]", body=summary)
```

"""
PLAIN = (
    "Dear [PERSON_1], thanks for the report on the quarterly numbers. I went through the "
    "figures with the team and we agree with most of them; the open points are listed "
    "below, and [PERSON_1] will confirm them by mail to [EMAIL_1] before Friday. "
) * 2 + "\n\n"


def answer(block: str, size: int) -> str:
    return (block * (size // len(block) + 1))[:size]


def child(rounds: int) -> None:
    """Times this interpreter's cogate; prints JSON {case: [ms per answer, ...]}."""
    from cogate.policies.restore import VaultRestorer
    from cogate.policies.vault.memory import Vault
    from cogate.proxy.surfaces.chat_stream import ChatStreamRestorer

    vault = Vault()
    vault.pseudonym("PERSON", "Eleanor Vance")
    vault.pseudonym("EMAIL_ADDRESS", "eleanor@example.com")
    out: dict[str, list[float]] = {}
    for name, block in (("markdown", BLOCK), ("plain", PLAIN)):
        for size in (2048, 40960):
            text = answer(block, size)
            body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
            chunks = [
                {"choices": [{"index": 0, "delta": {"content": text[i : i + 20]}}]}
                for i in range(0, len(text), 20)
            ]
            for mode in ("whole", "stream"):
                times = []
                for _ in range(rounds):
                    restorer = VaultRestorer(vault)
                    start = time.perf_counter()
                    if mode == "whole":
                        restorer.restore_json(body)
                    else:
                        stream = ChatStreamRestorer(restorer.text)
                        for chunk in chunks:
                            stream.feed(chunk)
                        stream.finish()
                    times.append((time.perf_counter() - start) * 1000)
                out[f"{name} {size // 1024} KB {mode}"] = times
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=Path("/work/main"), help="the other tree")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rounds)
        return
    here = Path(__file__).resolve().parent.parent
    trees = {"before": args.tree, "after": here}
    runs: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    for _ in range(3):  # alternate the trees so machine noise hits both
        for label, tree in trees.items():
            python = tree / ".venv" / "bin" / "python"
            script = str(Path(__file__).resolve())
            cmd = [str(python), script, "--child", "--rounds", str(args.rounds)]
            found = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
            for case, times in found.items():
                runs[label].setdefault(case, []).extend(times)
    print(f"restoring one answer, median ms ({3 * args.rounds} runs per tree, interleaved)")
    print(f"{'case':<26} {'before':>9} {'after':>9} {'ratio':>7} {'added':>9}")
    for case in runs["before"]:
        before = statistics.median(runs["before"][case])
        after = statistics.median(runs["after"][case])
        print(
            f"{case:<26} {before:>9.2f} {after:>9.2f} {after / before:>7.2f} "
            f"{after - before:>+9.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
