"""Fuse the local and the cloud next-token distributions in log space with a gated weight.

The weight comes from a small network over scalar features (both entropies, top-1
agreement, top-k coverage, the local margin, the position), trained offline with torch
(`cogate collab train-gate`) and stored as plain JSON numbers, so loading it needs neither
torch nor pickle. Without a gate file a fixed weight applies.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.special import log_softmax, softmax

from .align import CloudView, cloud_probs, compatible, coverage

FEATURES = ("local_entropy", "cloud_entropy", "top1_agree", "coverage", "local_margin", "position")
GATE_FORMAT = "cogate-fusion-gate"
GATE_VERSION = 1
DEFAULT_WEIGHT = 0.35


@dataclass
class Candidates:
    """The local model's candidate pool at one step."""

    ids: list[int]
    pieces: list[bytes | None]  # token bytes; None for an end-of-text token
    logprobs: np.ndarray  # local log-probabilities (over the full vocabulary) of the pool


@dataclass
class Fused:
    logprobs: np.ndarray  # over the pool, normalised
    weight: float  # the cloud's share; 0 when the cloud said nothing
    features: np.ndarray | None


def features(cands: Candidates, view: CloudView, position: int) -> np.ndarray:
    local = _normalised(cands.logprobs)
    order = np.argsort(-local)
    entropy = float(-(local * np.log(np.maximum(local, 1e-30))).sum())
    margin = float(local[order[0]] - (local[order[1]] if len(order) > 1 else 0.0))
    top_piece = cands.pieces[int(order[0])]
    cloud_top = view.top()
    if top_piece is None or cloud_top is None:
        agree = float(top_piece is None and view.end >= max(view.options.values(), default=0.0))
    else:
        agree = float(compatible(top_piece, cloud_top))
    return np.array(
        [
            entropy,
            view.entropy(),
            agree,
            coverage(view, cands.pieces),
            margin,
            math.log1p(position) / 6.0,
        ],
        dtype=np.float64,
    )


class Gate(Protocol):
    def weight(self, feats: np.ndarray) -> float: ...


@dataclass
class FixedGate:
    value: float = DEFAULT_WEIGHT

    def weight(self, feats: np.ndarray) -> float:
        return self.value

    def describe(self) -> str:
        return f"fixed:{self.value}"


class MlpGate:
    """A trained gate: standardise the features, tanh hidden layers, sigmoid output."""

    def __init__(self, spec: dict, source: str = "<memory>") -> None:
        self.source = source
        if spec.get("format") != GATE_FORMAT or spec.get("version") != GATE_VERSION:
            raise ValueError(
                f"{source} is not a cogate fusion gate (format {GATE_FORMAT} v{GATE_VERSION}); "
                "train one with `cogate collab train-gate`"
            )
        if list(spec.get("features", [])) != list(FEATURES):
            raise ValueError(
                f"{source} was trained on features {spec.get('features')}, this cogate computes "
                f"{list(FEATURES)}; retrain it with `cogate collab train-gate`"
            )
        self.mean = _array(spec["mean"], (len(FEATURES),), source, "mean")
        self.std = np.maximum(_array(spec["std"], (len(FEATURES),), source, "std"), 1e-6)
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        width = len(FEATURES)
        for i, layer in enumerate(spec["layers"]):
            weight = np.asarray(layer["weight"], dtype=np.float64)
            if weight.ndim != 2 or weight.shape[1] != width:
                raise ValueError(
                    f"{source}: layer {i} weight has shape {weight.shape}, "
                    f"expected (n, {width}); the file is damaged, retrain it"
                )
            bias = _array(layer["bias"], (weight.shape[0],), source, f"layers[{i}].bias")
            self.layers.append((_finite(weight, source), bias))
            width = weight.shape[0]
        if width != 1 or not self.layers:
            raise ValueError(f"{source}: the last layer must have one output; retrain it")
        self.seed = spec.get("seed")

    @classmethod
    def load(cls, path: Path) -> MlpGate:
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"cannot read the fusion gate {path} ({exc}); retrain it with "
                "`cogate collab train-gate` or remove it to use the fixed weight"
            ) from None
        return cls(spec, str(path))

    def weight(self, feats: np.ndarray) -> float:
        x = (np.asarray(feats, dtype=np.float64) - self.mean) / self.std
        for i, (weight, bias) in enumerate(self.layers):
            x = weight @ x + bias
            if i < len(self.layers) - 1:
                x = np.tanh(x)
        return float(1.0 / (1.0 + math.exp(-float(x[0]))))

    def describe(self) -> str:
        return f"trained:{Path(self.source).name}"


def load_gate(path: Path | None, fixed: float = DEFAULT_WEIGHT) -> FixedGate | MlpGate:
    """The trained gate at `path` when it exists, else the fixed weight."""
    if path is not None and path.is_file():
        return MlpGate.load(path)
    return FixedGate(fixed)


def fuse(cands: Candidates, view: CloudView | None, gate: Gate, position: int) -> Fused:
    """The fused distribution over the pool; the local one alone when the cloud said nothing."""
    if view is None or view.empty:
        return Fused(_log_normalise(cands.logprobs), 0.0, None)
    feats = features(cands, view, position)
    weight = min(max(gate.weight(feats), 0.0), 1.0)
    return Fused(
        fuse_logprobs(cands.logprobs, cloud_probs(view, cands.pieces), weight), weight, feats
    )


def fuse_logprobs(local: np.ndarray, cloud: Sequence[float], weight: float) -> np.ndarray:
    """(1-w)·log p_local + w·log p_cloud, renormalised over the pool."""
    mixed = (1.0 - weight) * np.asarray(local, dtype=np.float64) + weight * np.log(
        np.maximum(np.asarray(cloud, dtype=np.float64), 1e-30)
    )
    return _log_normalise(mixed)


def _log_normalise(logits: np.ndarray) -> np.ndarray:
    return log_softmax(np.asarray(logits, dtype=np.float64))


def _normalised(logprobs: np.ndarray) -> np.ndarray:
    return softmax(np.asarray(logprobs, dtype=np.float64))


def _array(values: object, shape: tuple[int, ...], source: str, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"{source}: {name} has shape {arr.shape}, expected {shape}; retrain it")
    return _finite(arr, source)


def _finite(arr: np.ndarray, source: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{source} holds non-finite numbers; retrain it")
    return arr
