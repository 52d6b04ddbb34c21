"""`cogate collab …`: offline tools of the collaboration modes (training the fusion gate)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from cogate.collab.cogenesis import load_samples
from cogate.collab.runtime import LocalModel
from cogate.core.settings_flags import build_settings

from .runner import default_gate_path
from .train import collect, load_positions, save_positions, train

DEFAULT_DATA = Path("..") / "shared" / "data"


@click.group()
def collab() -> None:
    """Tools for the collaboration modes (sketch, logits)."""


@collab.command("train-gate")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with cogenesis-context-aware-dev.json (default ../shared/data).",
)
@click.option("--limit", type=int, default=40, show_default=True, help="Samples to use.")
@click.option(
    "--tokens",
    type=int,
    default=64,
    show_default=True,
    help="Reference tokens per sample to learn from.",
)
@click.option(
    "--local-model",
    type=click.Path(dir_okay=False, path_type=Path),
    help="GGUF of the local model (default: the embedded SmolLM2).",
)
@click.option(
    "--cloud-model",
    type=click.Path(dir_okay=False, path_type=Path),
    help="GGUF standing in for the cloud model (default: the local model's file).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Makes training reproducible.")
@click.option("--epochs", type=int, default=300, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Gate file to write (default: fusion-gate.json in the data dir, where the gateway looks).",
)
@click.option(
    "--pairs",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file of collected logit pairs: read when it exists (no models "
    "needed), else written after collecting.",
)
@click.option("--threads", type=int, help="Threads for llama.cpp.")
def train_gate(
    data: Path | None,
    limit: int,
    tokens: int,
    local_model: Path | None,
    cloud_model: Path | None,
    seed: int,
    epochs: int,
    out: Path | None,
    pairs: Path | None,
    threads: int | None,
) -> None:
    """Train the logits-mode fusion gate on the CoGenesis dev split.

    The local model reads each sample with its private context, the cloud stand-in reads the
    general task only; both are teacher-forced on the reference answer and a small network
    learns how much weight the cloud deserves at each token. The result is plain JSON
    (loaded without torch or pickle); the same --seed gives the same file.
    """
    settings = build_settings()
    target = out or default_gate_path(settings)
    if pairs is not None and pairs.is_file():
        positions = load_positions(pairs)
        click.echo(f"read {len(positions)} positions from {pairs}")
    else:
        positions = _collect(data, limit, tokens, local_model, cloud_model, threads, collect)
        if pairs is not None:
            save_positions(pairs, positions)
    try:
        spec, metrics = train(positions, seed=seed, epochs=epochs)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    click.echo(
        f"held-out NLL per token: local only {metrics['heldout_nll_local']:.4f}, "
        f"fixed weight {metrics['heldout_nll_fixed']:.4f}, gate {metrics['heldout_nll_gate']:.4f} "
        f"(mean weight {metrics['heldout_mean_weight']:.3f}, "
        f"{int(metrics['positions'])} positions)"
    )
    click.echo(f"wrote {target} ({target.stat().st_size} bytes)")


def _collect(data, limit, tokens, local_model, cloud_model, threads, collect):
    folder = data or DEFAULT_DATA
    try:
        samples = load_samples(folder, limit)
    except FileNotFoundError:
        raise click.ClickException(
            f"no cogenesis-context-aware-dev.json in {folder}; pass --data FOLDER"
        ) from None
    # Training reads both models step by step in this process (no worker: an offline tool).
    local = LocalModel(
        build_settings(local_model=local_model, local_threads=threads, local_isolation="thread")
    )
    cloud = LocalModel(
        build_settings(
            local_model=cloud_model or local.path,
            local_threads=threads,
            local_context=2048,
            local_isolation="thread",
        )
    )
    with click.progressbar(
        length=len(samples), label="collecting logit pairs", file=sys.stderr
    ) as bar:
        last = [0]

        def progress(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        return collect(samples, local, cloud, answer_tokens=tokens, progress=progress)
