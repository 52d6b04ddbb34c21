"""Train the fusion gate: logit pairs from the CoGenesis dev split, a tiny torch network,
numbers written to plain JSON.

For each sample the local model reads the whole request (private context included) and the
cloud model reads only the general task, both teacher-forced on the reference answer. At
every local token the cloud's top-k is aligned through bytes exactly as at serving time,
and the gate learns the weight that makes the fused distribution predict the reference.
Nothing leaves the device: both models run in this process.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cogate.collab.cogenesis import reference_of, request_turns
from cogate.collab.context import split_turns
from cogate.collab.guard import build_guard
from cogate.collab.instruction import task_title
from cogate.collab.runtime import Scorer
from cogate.collab.runtime_api import ChatPrompt
from cogate.collab.sketch import final_messages, fit_prompt
from cogate.policies.schema import PrivateContext

from .align import CloudStep, Draft, cloud_probs, view_at
from .cloud import CLOUD_TEMPLATE
from .decode import LogitsOptions, _extend_pool, _local_logprobs, _pool
from .fusion import FEATURES, GATE_FORMAT, GATE_VERSION, Candidates, features
from .stepper import LlamaStepper

TOP_K = 5


@dataclass
class Position:
    sample: int
    feats: np.ndarray  # (len(FEATURES),)
    local: np.ndarray  # local log-probabilities over the pool
    cloud: np.ndarray  # cloud probabilities over the pool (floored)
    target: int  # index of the reference token in the pool


def cloud_draft(
    stepper: LlamaStepper, prompt: list[int], answer: list[int], top_k: int = TOP_K
) -> Draft:
    """The cloud's top-k at every token of `answer`, teacher-forced, as a Draft."""
    logits = stepper.start(prompt)
    steps = []
    for token in answer:
        logprobs = _local_logprobs(logits, [], LogitsOptions(repeat_penalty=1.0))
        best = np.argpartition(-logprobs, top_k)[:top_k]
        top = {}
        for t in best.tolist():
            piece = stepper.piece(t)
            if piece:
                top[piece] = float(logprobs[t])
        steps.append(CloudStep(stepper.piece(token) or b"", top, float(logprobs[token])))
        logits = stepper.step(token)
    return Draft(steps)


def local_positions(
    stepper: LlamaStepper,
    prompt: list[int],
    answer: list[int],
    draft: Draft,
    sample: int,
    options: LogitsOptions,
) -> list[Position]:
    """Teacher-force the local model on `answer`; one Position per token the cloud covers."""
    out: list[Position] = []
    logits = stepper.start(prompt)
    recent: list[int] = []
    for position, token in enumerate(answer):
        piece = stepper.piece(token)
        if not piece:
            break
        logprobs = _local_logprobs(logits, recent, options)
        ids, pieces = _pool(stepper, logprobs, options.pool)
        view = view_at(draft)
        if view is not None:
            _extend_pool(stepper, ids, pieces, view)
            if token not in ids:
                ids.append(token)
                pieces.append(piece)
            cands = Candidates(ids, pieces, logprobs[ids])
            out.append(
                Position(
                    sample=sample,
                    feats=features(cands, view, position),
                    local=np.asarray(cands.logprobs, dtype=np.float64),
                    cloud=np.asarray(cloud_probs(view, pieces), dtype=np.float64),
                    target=ids.index(token),
                )
            )
        if not draft.advance(piece):
            break  # the tokenizers disagree on the bytes (normalisation): stop this sample
        recent = (recent + [token])[-options.repeat_window :]
        logits = stepper.step(token)
    return out


def collect(
    samples: Sequence[dict[str, Any]],
    local: Any,
    cloud: Any,
    *,
    answer_tokens: int = 64,
    options: LogitsOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Position]:
    """Logit pairs for `samples`. `local` and `cloud` are LocalModel instances running in
    this process (`local_isolation="thread"`; two files, or the same file loaded twice)."""
    options = options or LogitsOptions()
    positions: list[Position] = []
    if local.worker is not None or cloud.worker is not None:
        raise ValueError("training reads the models in this process: local_isolation='thread'")
    local_llama, cloud_llama = local.load(), cloud.load()
    local_step = LlamaStepper(Scorer.in_process(local_llama))
    cloud_step = LlamaStepper(Scorer.in_process(cloud_llama))
    for index, sample in enumerate(samples):
        split = split_turns(request_turns(sample), PrivateContext())
        task = task_title(split.instruction)
        # Training reads no entity detector: the guard's own rules only.
        guard = build_guard(split.private_text, (), public=task)
        cloud_prompt = CLOUD_TEMPLATE.format(instruction=guard.scrub(task))
        reference = reference_of(sample)

        def build(private: str, split=split) -> list[dict[str, str]]:
            return final_messages(split, split.instruction, None, private)

        prompt = fit_prompt(local, build, split.private_text, answer_tokens + 8)
        answer = local.tokenize(reference)[:answer_tokens]
        answer_text = local_llama.detokenize(answer)
        c_prompt = cloud_llama.tokenize(cloud_prompt.encode(), add_bos=True, special=False)
        c_answer = cloud_llama.tokenize(answer_text + b" ", add_bos=False, special=False)
        draft = cloud_draft(cloud_step, c_prompt, c_answer)
        assert not isinstance(prompt, ChatPrompt)  # the embedded model: token ids
        positions.extend(local_positions(local_step, list(prompt), answer, draft, index, options))
        if progress:
            progress(index + 1)
    return positions


def train(
    positions: Sequence[Position],
    *,
    seed: int = 0,
    hidden: int = 8,
    epochs: int = 300,
    lr: float = 0.02,
    holdout: float = 0.2,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Fit the gate; returns (the gate file's JSON object, held-out metrics)."""
    import torch

    if not positions:
        raise ValueError("no training positions: check --data and that the models loaded")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    samples = sorted({p.sample for p in positions})
    rng = random.Random(seed)
    rng.shuffle(samples)
    cut = max(1, int(len(samples) * holdout)) if len(samples) > 1 else 0
    held = set(samples[:cut])
    train_set = [p for p in positions if p.sample not in held] or list(positions)
    test_set = [p for p in positions if p.sample in held] or list(positions)

    x_train, lp_train, lc_train, mask_train, y_train = _tensors(train_set, torch)
    x_test, lp_test, lc_test, mask_test, y_test = _tensors(test_set, torch)
    mean, std = x_train.mean(0), x_train.std(0)
    # A feature constant in the data (coverage is 1.0 when the pool always carries the cloud's
    # options) must not turn a small difference at serving time into a huge input.
    std = torch.where(std < 1e-3, torch.ones_like(std), std)
    if len(x_train) < 2:
        std = torch.ones_like(std)

    net = torch.nn.Sequential(
        torch.nn.Linear(len(FEATURES), hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)
    ).double()
    with torch.no_grad():  # start at the fixed default weight's neighbourhood
        net[2].bias.fill_(math.log(0.35 / 0.65))  # type: ignore[operator]
    optimiser = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)

    def loss_of(w: Any, lp: Any, lc: Any, mask: Any, y: Any) -> Any:
        mixed = (1 - w) * lp + w * lc
        mixed = mixed.masked_fill(~mask, float("-inf"))
        return torch.nn.functional.cross_entropy(mixed, y)

    for _ in range(epochs):
        optimiser.zero_grad()
        w = torch.sigmoid(net((x_train - mean) / std))
        loss = loss_of(w, lp_train, lc_train, mask_train, y_train)
        loss.backward()
        optimiser.step()

    with torch.no_grad():
        w_test = torch.sigmoid(net((x_test - mean) / std))
        metrics = {
            "positions": float(len(positions)),
            "heldout_positions": float(len(test_set)),
            "heldout_nll_local": float(
                loss_of(torch.zeros_like(w_test), lp_test, lc_test, mask_test, y_test)
            ),
            "heldout_nll_fixed": float(
                loss_of(torch.full_like(w_test, 0.35), lp_test, lc_test, mask_test, y_test)
            ),
            "heldout_nll_gate": float(loss_of(w_test, lp_test, lc_test, mask_test, y_test)),
            "heldout_mean_weight": float(w_test.mean()),
        }
    spec = {
        "format": GATE_FORMAT,
        "version": GATE_VERSION,
        "features": list(FEATURES),
        "mean": _rounded(mean.tolist()),
        "std": _rounded(std.tolist()),
        "layers": [
            {"weight": _rounded(net[0].weight.tolist()), "bias": _rounded(net[0].bias.tolist())},  # type: ignore[operator]
            {"weight": _rounded(net[2].weight.tolist()), "bias": _rounded(net[2].bias.tolist())},  # type: ignore[operator]
        ],
        "seed": seed,
        "metrics": {k: round(v, 5) for k, v in metrics.items()},
    }
    return spec, metrics


def _tensors(positions: Sequence[Position], torch: Any) -> tuple[Any, ...]:
    width = max(len(p.local) for p in positions)
    n = len(positions)
    lp = np.full((n, width), -1e4)
    lc = np.full((n, width), -1e4)
    mask = np.zeros((n, width), dtype=bool)
    for i, p in enumerate(positions):
        k = len(p.local)
        lp[i, :k] = p.local
        lc[i, :k] = np.log(np.maximum(p.cloud, 1e-30))
        mask[i, :k] = True
    return (
        torch.tensor(np.stack([p.feats for p in positions]), dtype=torch.float64),
        torch.tensor(lp, dtype=torch.float64),
        torch.tensor(lc, dtype=torch.float64),
        torch.tensor(mask),
        torch.tensor([p.target for p in positions], dtype=torch.long),
    )


def _rounded(values: Any) -> Any:
    if isinstance(values, list):
        return [_rounded(v) for v in values]
    return round(float(values), 8)


def save_positions(path: Path, positions: Sequence[Position]) -> None:
    """Collected pairs as plain JSON, so training can be rerun without the models."""
    rows = [
        {
            "sample": p.sample,
            "feats": p.feats.tolist(),
            "local": p.local.tolist(),
            "cloud": p.cloud.tolist(),
            "target": p.target,
        }
        for p in positions
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")


def load_positions(path: Path) -> list[Position]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        Position(
            r["sample"],
            np.asarray(r["feats"]),
            np.asarray(r["local"]),
            np.asarray(r["cloud"]),
            int(r["target"]),
        )
        for r in rows
    ]
