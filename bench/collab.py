"""Logits mode against local-only (and sketch) on CoGenesis samples: cost, speed, leakage, quality.

For each sample the same request (the paper's `## User Profile` / `## User Writing History` /
`## Task` layout) is answered by:

- local only: the local model alone (the real `local` runner);
- logits: the real LogitsRunner with the real privacy engine, the cloud consulted where the
  local model is unsure;
- sketch (unless --no-sketch): the real SketchRunner.

All answers are greedy (temperature 0) and streamed, so decoding speed is measured from the
first to the last content chunk (the prompt read is the same for every system) as well as
end to end. Figures: cloud calls per generated token, tokens that agreed with a draft per
call, tokens/s against local-only, private items in any outbound payload (as
bench/leakage.py counts them), ROUGE-L F1 against the reference answer.

The stand-in cloud is llama.cpp's server on loopback with SmolLM2 (same tokenizer as the
local model) unless --cloud-model names another GGUF (`gemma` for Gemma 3 270M, another
tokenizer) or --cloud an OpenAI-compatible URL with legacy /v1/completions.

    .venv/bin/python bench/collab.py --limit 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import gemma_path, rouge_l  # noqa: E402  (a sibling benchmark script)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=3, help="first N samples (default 3)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cloud", help="an OpenAI-compatible base URL with /v1/completions")
    parser.add_argument("--cloud-model", help="GGUF for the stand-in cloud, or `gemma`")
    parser.add_argument("--local-model", type=Path, help="GGUF for the local model")
    parser.add_argument("--gate", type=Path, help="a trained fusion gate (default: fixed weight)")
    parser.add_argument("--history", type=int, default=1, help="earlier writings per request")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-sketch", action="store_true", help="skip the sketch system")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    return parser.parse_args(argv)


class RecordingGate:
    """The egress gate, keeping a copy of every body that leaves."""

    def __init__(self, gate: Any) -> None:
        self._gate = gate
        self.settings = gate.settings
        self.bodies: list[Any] = []

    async def send(self, ex: Any, path: str, body: Any, **kwargs: Any) -> Any:
        if body is not None:
            self.bodies.append(json.loads(json.dumps(body)))
        return await self._gate.send(ex, path, body, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gate, name)


async def timed_stream(runner: Any, ex: Any, gate: Any) -> dict[str, Any]:
    started = time.perf_counter()
    reply = await runner.run(ex, gate)
    text, first, chunks = "", None, 0
    if reply.stream is None:
        raise RuntimeError(f"{ex.mode} answered {reply.status}: {reply.body[:300]!r}")
    async for raw in reply.stream:
        for line in raw.split(b"\n"):
            if not line.startswith(b"data: {"):
                continue
            event = json.loads(line[6:])
            for choice in event.get("choices", []):
                piece = choice.get("delta", {}).get("content")
                if piece:
                    chunks += 1
                    text += piece
                    if first is None:
                        first = time.perf_counter()
    ended = time.perf_counter()
    tokens = (ex.usage or {}).get("completion_tokens", chunks)
    decode_s = ended - first if first is not None and tokens > 1 else float("nan")
    return {
        "text": text,
        "tokens": tokens,
        "total_s": ended - started,
        "decode_tps": (tokens - 1) / decode_s if decode_s == decode_s and decode_s > 0 else 0.0,
        "total_tps": tokens / (ended - started),
        "logits": ex.notes.get("logits"),
        "fallback": ex.notes.get("logits_fallback"),
    }


async def run(args: argparse.Namespace, cloud: str) -> dict[str, Any]:
    from contextlib import AsyncExitStack

    from cogate.collab.cogenesis import (
        leaks,
        load_samples,
        payload_texts,
        private_items,
        reference_of,
        request_messages,
    )
    from cogate.collab.runtime import LocalModel
    from cogate.core.settings import Settings
    from cogate.policies import Privacy
    from cogate.proxy.assembly import assemble_pipeline
    from cogate.proxy.surfaces import exchange_for

    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="cogate-collab-bench-")),
        upstream=cloud,
        local_model=args.local_model,
        local_threads=args.threads,
        read_timeout=900,
    )
    privacy = Privacy(settings)
    model = LocalModel(settings)
    # The gateway's own wiring, with the privacy engine and the model this bench inspects.
    stack = AsyncExitStack()
    pipeline = await stack.enter_async_context(
        assemble_pipeline(settings, privacy=privacy, model=model, logits={"gate_path": args.gate})
    )
    gate, logits = pipeline.gate, pipeline.runners["logits"]
    systems = {"local only": ("local", pipeline.runners["local"]), "logits": ("logits", logits)}
    if not args.no_sketch:
        systems["sketch"] = ("sketch", pipeline.runners["sketch"])
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in systems}
    print(
        f"local model {model.name}; cloud {cloud}; gate {logits.gate.describe()}",
        file=sys.stderr,
    )
    try:
        await model.ready()
        for index, sample in enumerate(load_samples(args.data, args.limit)):
            body = {
                "model": "cloud",
                "messages": request_messages(sample, "sections", history=args.history),
                "max_tokens": args.max_tokens,
                "temperature": 0,
                "stream": True,
            }
            items = private_items(sample)
            for name, (mode, runner) in systems.items():
                ex = exchange_for("chat/completions", json.loads(json.dumps(body)))
                privacy.resolve(ex)
                ex.mode = mode
                recording = RecordingGate(gate)
                row = await timed_stream(runner, ex, recording)
                texts = [t for b in recording.bodies for t in payload_texts(b)]
                row["leaks"] = leaks(items, texts) if texts else {}
                row["rouge_l"] = rouge_l(row["text"], reference_of(sample))
                row["payloads"] = len(recording.bodies)
                rows[name].append(row)
                print(
                    f"  sample {index + 1} {name}: {row['tokens']} tokens, "
                    f"{row['decode_tps']:.1f} tok/s decoding, R-L {row['rouge_l']:.3f}"
                    + (f", {row['logits']}" if row.get("logits") else ""),
                    file=sys.stderr,
                )
    finally:
        await stack.aclose()
        await model.aclose()
    return rows


def report(rows: dict[str, list[dict[str, Any]]], args: argparse.Namespace, cloud: str) -> str:
    out = []
    n = len(rows["logits"])
    out.append(
        f"collaboration on {n} CoGenesis samples (history {args.history}, max_tokens "
        f"{args.max_tokens}, greedy, cloud {cloud})\n"
    )
    out.append("| system | tokens | decode tok/s | end-to-end tok/s | ROUGE-L F1 | payloads out |")
    out.append("|---|---|---|---|---|---|")
    means = {}
    for name, items in rows.items():
        dec = statistics.mean(r["decode_tps"] for r in items)
        tot = statistics.mean(r["total_tps"] for r in items)
        rl = statistics.mean(r["rouge_l"] for r in items)
        means[name] = (dec, tot, rl)
        out.append(
            f"| {name} | {sum(r['tokens'] for r in items)} | {dec:.2f} | {tot:.2f} | "
            f"{rl:.4f} | {sum(r['payloads'] for r in items)} |"
        )
    stats = [r["logits"] for r in rows["logits"] if r.get("logits")]
    tokens = sum(s["tokens"] for s in stats)
    calls = sum(s["calls"] for s in stats)
    accepted = sum(s["accepted"] for s in stats)
    fused = sum(s["fused"] for s in stats)
    per_token = calls / max(tokens, 1)
    out.append("")
    out.append(
        f"logits: {calls} cloud calls for {tokens} tokens = {per_token:.3f} calls/token "
        f"(target <= 0.15: {'MET' if per_token <= 0.15 else 'NOT MET'}); "
        f"{accepted / max(calls, 1):.2f} accepted tokens per call; {fused} tokens fused; "
        f"mean weight {statistics.mean(s['mean_weight'] for s in stats) if stats else 0:.3f}"
    )
    ratio_dec = means["logits"][0] / max(means["local only"][0], 1e-9)
    ratio_tot = means["logits"][1] / max(means["local only"][1], 1e-9)
    out.append(
        f"speed vs local only: decoding x{ratio_dec:.2f}, end to end x{ratio_tot:.2f} "
        f"(target >= 0.50 decoding: {'MET' if ratio_dec >= 0.5 else 'NOT MET'})"
    )
    for name in rows:
        if name == "local only":
            continue
        cells: dict[str, list[int]] = {}
        for r in rows[name]:
            for key, (found, total) in (r["leaks"] or {}).items():
                cell = cells.setdefault(key, [0, 0])
                cell[0] += found
                cell[1] += total
        text = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in cells.items()) or "nothing left"
        hard = sum(
            cells.get(k, [0, 0])[0]
            for k in ("name_full", "name_first", "name_last", "city", "quoted")
        )
        out.append(
            f"leakage ({name}): {text} -> names/cities/quoted strings out: {hard} "
            f"(target 0: {'MET' if hard == 0 else 'NOT MET'})"
        )
    local_rl, logits_rl = means["local only"][2], means["logits"][2]
    out.append(
        f"quality: ROUGE-L logits {logits_rl:.4f} vs local only {local_rl:.4f} "
        f"(target >=: {'MET' if logits_rl >= local_rl else 'NOT MET'})"
        + (f"; sketch {means['sketch'][2]:.4f}" if "sketch" in means else "")
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    with ExitStack() as stack:
        cloud = args.cloud
        if cloud is None:
            from cogate.collab.model_files import embedded_model_path
            from cogate.proxy.servers import llama_server

            work = Path(tempfile.mkdtemp(prefix="cogate-cloud-"))
            if args.cloud_model == "gemma":
                model = gemma_path()
            else:
                model = Path(args.cloud_model) if args.cloud_model else embedded_model_path()
            print(f"starting the stand-in cloud ({model.name})", file=sys.stderr)
            cloud = str(stack.enter_context(llama_server(work, model)))
        rows = asyncio.run(run(args, cloud))
    print(report(rows, args, cloud))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    print(f"({time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
