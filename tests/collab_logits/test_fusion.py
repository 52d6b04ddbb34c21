"""Fusion in log space and the gate file, on hand-made distributions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from cogate.collab.logits.align import CloudStep, Draft, view_at
from cogate.collab.logits.fusion import (
    FEATURES,
    GATE_FORMAT,
    GATE_VERSION,
    Candidates,
    FixedGate,
    MlpGate,
    features,
    fuse,
    fuse_logprobs,
    load_gate,
)


def cands(pieces_probs: dict) -> Candidates:
    pieces = list(pieces_probs)
    return Candidates(
        list(range(len(pieces))), pieces, np.log(np.array(list(pieces_probs.values())))
    )


def test_weight_zero_is_the_local_model_and_one_the_cloud():
    local = np.log([0.7, 0.2, 0.1])
    cloud = [0.1, 0.1, 0.8]
    assert np.exp(fuse_logprobs(local, cloud, 0.0)) == pytest.approx([0.7, 0.2, 0.1])
    assert np.exp(fuse_logprobs(local, cloud, 1.0)) == pytest.approx([0.1, 0.1, 0.8])
    mixed = np.exp(fuse_logprobs(local, cloud, 0.5))
    assert mixed.sum() == pytest.approx(1.0)
    geo = np.sqrt(np.array([0.07, 0.02, 0.08]))
    assert mixed == pytest.approx(geo / geo.sum())


def test_the_cloud_can_flip_a_split_token_the_local_model_ranks_second():
    # Local tokenizer: " Span"+"ish" vs " French"; cloud tokenizer: whole words.
    local = cands({b" French": 0.5, b" Span": 0.45, b" German": 0.05})
    draft = Draft(
        [CloudStep(b" Spanish", {b" Spanish": math.log(0.9), b" French": math.log(0.05)})]
    )
    fused = fuse(local, view_at(draft), FixedGate(0.5), position=3)
    assert int(np.argmax(fused.logprobs)) == 1
    assert fused.weight == 0.5


def test_no_cloud_view_leaves_the_local_distribution_alone():
    local = cands({b"a": 0.6, b"b": 0.4})
    fused = fuse(local, None, FixedGate(0.9), position=0)
    assert np.exp(fused.logprobs) == pytest.approx([0.6, 0.4])
    assert fused.weight == 0.0 and fused.features is None


def test_missing_top_k_means_no_fusion():
    local = cands({b"a": 0.6, b"b": 0.4})
    fused = fuse(local, view_at(Draft([CloudStep(b"b", {})])), FixedGate(0.9), position=0)
    assert fused.weight == 0.0


def test_features_are_named_and_finite():
    local = cands({b" Span": 0.5, b" French": 0.5, None: 1e-3})
    draft = Draft([CloudStep(b" Spanish", {b" Spanish": math.log(0.9)})])
    feats = features(local, view_at(draft), position=10)
    assert len(feats) == len(FEATURES)
    assert np.all(np.isfinite(feats))
    named = dict(zip(FEATURES, feats, strict=True))
    assert named["top1_agree"] == 1.0
    assert named["coverage"] == pytest.approx(1.0)
    assert named["local_entropy"] == pytest.approx(math.log(2), abs=0.01)


def gate_spec(**changes) -> dict:
    spec = {
        "format": GATE_FORMAT,
        "version": GATE_VERSION,
        "features": list(FEATURES),
        "mean": [0.0] * len(FEATURES),
        "std": [1.0] * len(FEATURES),
        "layers": [
            {"weight": [[0.0] * len(FEATURES)] * 2, "bias": [0.0, 0.0]},
            {"weight": [[0.0, 0.0]], "bias": [math.log(0.25 / 0.75)]},
        ],
        "seed": 1,
    }
    spec.update(changes)
    return spec


def test_a_gate_file_is_plain_json_and_gives_its_weight(tmp_path):
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(gate_spec()))
    gate = load_gate(path)
    assert isinstance(gate, MlpGate)
    assert gate.weight(np.ones(len(FEATURES))) == pytest.approx(0.25)


def test_without_a_gate_file_the_fixed_weight_applies(tmp_path):
    gate = load_gate(tmp_path / "missing.json", fixed=0.3)
    assert isinstance(gate, FixedGate) and gate.weight(np.zeros(6)) == 0.3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "pickle"}, "not a cogate fusion gate"),
        ({"features": ["local_entropy"]}, "retrain"),
        ({"mean": [0.0]}, "shape"),
        ({"std": [float("nan")] * len(FEATURES)}, "non-finite"),
    ],
)
def test_broken_gate_files_are_refused_with_the_fix(change, message):
    with pytest.raises(ValueError, match=message):
        MlpGate(gate_spec(**change))


def test_an_unreadable_gate_file_names_the_fix(tmp_path):
    path = tmp_path / "gate.json"
    path.write_bytes(b"\x80\x02not json")
    with pytest.raises(ValueError, match="train-gate"):
        load_gate(path)
