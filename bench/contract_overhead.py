"""What the field contracts cost: a 40 KB agent turn per wire API, redacted in full, and the
same body walked by its contract with a scanner that finds nothing (the contract's own cost).

Turns are built like an agent's (a system prompt, tool definitions, tool calls and their
outputs of code, logs and prose with names and e-mails planted; `agent_turns.py`'s
generator), fresh per round so no timing is a cache hit. Prints per surface the median full
redaction time, the median contract walk, and the walk's share of the redaction. Run it
with another tree's interpreter to compare trees (`--tree-label`); the walk-only figure
needs this tree's `cogate.policies.contract`.

Run: .venv/bin/python bench/contract_overhead.py [--rounds N] [--size BYTES]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from agent_turns import agent_output  # noqa: E402


def pieces(size: int, seed: int) -> list[str]:
    text = agent_output(size, seed).text()
    cut = len(text) // 4
    return [text[i * cut : (i + 1) * cut] for i in range(4)]


def responses_turn(size: int, seed: int) -> dict[str, Any]:
    system, out1, out2, out3 = pieces(size, seed)
    tool = {
        "type": "function",
        "name": "exec_command",
        "description": "Run a command",
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
    }
    items: list[dict[str, Any]] = [
        {"type": "message", "role": "developer",
         "content": [{"type": "input_text", "text": system}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Fix it"}]},
    ]  # fmt: skip
    for n, out in enumerate((out1, out2, out3)):
        call = f"call_{seed}x{n}ab12cd34"
        items.append({"type": "function_call", "call_id": call, "name": "exec_command",
                      "arguments": json.dumps({"cmd": f"cat file{n}.py"})})  # fmt: skip
        items.append({"type": "function_call_output", "call_id": call, "output": out})
    return {"model": "gpt-5.5", "input": items, "tools": [tool], "stream": True,
            "store": False, "include": ["reasoning.encrypted_content"],
            "reasoning": {"effort": "medium"}, "tool_choice": "auto"}  # fmt: skip


def messages_turn(size: int, seed: int) -> dict[str, Any]:
    system, out1, out2, out3 = pieces(size, seed)
    tool = {
        "name": "Bash",
        "description": "Run a command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
    }
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "Fix it"}]}
    ]
    for n, out in enumerate((out1, out2, out3)):
        use = f"toolu_{seed}x{n}"
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": use,
                        "name": "Bash",
                        "input": {"command": f"cat f{n}.py"},
                    }
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use, "content": out}],
            }
        )
    return {"model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": True,
            "system": [{"type": "text", "text": system}], "tools": [tool],
            "messages": messages}  # fmt: skip


def chat_turn(size: int, seed: int) -> dict[str, Any]:
    system, out1, out2, out3 = pieces(size, seed)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system},
                                      {"role": "user", "content": "Fix it"}]  # fmt: skip
    for n, out in enumerate((out1, out2, out3)):
        call = f"call_{seed}x{n}"
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call,
                        "type": "function",
                        "function": {"name": "exec", "arguments": json.dumps({"cmd": f"cat f{n}"})},
                    }
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call, "content": out})
    return {"model": "gpt-4o", "messages": messages}


TURNS = {
    "chat/completions": chat_turn,
    "responses": responses_turn,
    "messages": messages_turn,
}


class Silent:
    """A scanner that finds nothing: what is left is the contract's own walk."""

    def text(self, value: str, path: str, context: str = "", *, words: bool = False) -> str:
        return value

    def texts(self, values: list[str], paths: list[str]) -> list[str]:
        return values

    def unscannable(self, path: str, kind: str) -> bool:
        return True


def time_word_scans() -> list[float]:
    """Times the scans of values read as words (settings, ids, keys): the detector calls the
    contract adds for fields that were once relayed unread."""
    from cogate.policies import redact

    spent = [0.0]
    original = redact.Redaction.text

    def text(self: Any, value: str, path: str, context: str = "", *, words: bool = False) -> str:
        if not words:
            return original(self, value, path, context, words=words)
        t0 = time.perf_counter()
        try:
            return original(self, value, path, context, words=words)
        finally:
            spent[0] += time.perf_counter() - t0

    redact.Redaction.text = text  # type: ignore[method-assign]
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=40_000)
    parser.add_argument("--tree-label", default="this tree")
    args = parser.parse_args()
    from cogate.core.settings import Settings
    from cogate.policies import Privacy
    from cogate.proxy.surfaces import exchange_for

    work = Path(tempfile.mkdtemp(prefix="cogate-contract-bench-"))
    policy = work / "bench.yaml"
    policy.write_text("mode: redact\nactions: {CREDIT_CARD: pseudonymize, SECRET: pseudonymize}\n")
    privacy = Privacy(Settings(data_dir=work / "data", policy=policy))
    privacy.resolve(exchange_for("chat/completions", chat_turn(2000, 1)))  # warm the analyzer
    spent = time_word_scans()
    print(f"contract overhead ({args.tree_label}): {args.size // 1000} KB agent turns, "
          f"{args.rounds} rounds, median")  # fmt: skip
    for index, (route, make) in enumerate(TURNS.items()):
        full, walk, words = [], [], []
        for round_ in range(args.rounds):
            # Seeds differ per surface too: the same text twice would hit the detector's cache.
            body = make(args.size, 1000 + 100 * index + round_)
            ex = exchange_for(route, body, conversation=f"c{round_}")
            spent[0] = 0.0
            t0 = time.perf_counter()
            privacy.resolve(ex)
            privacy.sanitize(ex)
            full.append(time.perf_counter() - t0)
            words.append(spent[0])
            raw = json.dumps(body).encode()
            t0 = time.perf_counter()
            ex.surface.rewrite(ex.op, raw, body, Silent())  # type: ignore[union-attr]
            walk.append(time.perf_counter() - t0)
        f, w = statistics.median(full) * 1000, statistics.median(walk) * 1000
        s = statistics.median(words) * 1000
        size = len(json.dumps(make(args.size, 1000)))
        print(f"  {route:<17} {size / 1000:5.1f} KB  redaction {f:7.1f} ms   "
              f"walk with a silent scanner {w:6.2f} ms ({w / f:.2%})   "
              f"values scanned as words {s:6.2f} ms ({s / f:.2%})")  # fmt: skip


if __name__ == "__main__":
    main()
