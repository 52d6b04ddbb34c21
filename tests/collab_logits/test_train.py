"""Training the fusion gate: reproducible with a seed, plain JSON, loaded without torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from cogate.collab.logits.cli import collab
from cogate.collab.logits.fusion import FEATURES, MlpGate
from cogate.collab.logits.train import Position, load_positions, save_positions, train


def synthetic(n: int = 240, seed: int = 0) -> list[Position]:
    """Positions where the cloud is right whenever it agrees with the local top-1, and
    wrong otherwise: a good gate trusts the cloud on agreement only."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        agree = i % 2 == 0
        local = np.log(np.array([0.5, 0.3, 0.2]))
        cloud = np.array([0.05, 0.9, 0.05]) if agree else np.array([0.05, 0.05, 0.9])
        target = 1 if agree else 0
        feats = np.array([1.0, 0.4, float(agree), 1.0, 0.2, rng.random()])
        out.append(Position(sample=i // 4, feats=feats, local=local, cloud=cloud, target=target))
    return out


def test_training_is_reproducible_and_learns_when_to_trust_the_cloud(tmp_path):
    positions = synthetic()
    first, metrics = train(positions, seed=7, epochs=150)
    again, _ = train(positions, seed=7, epochs=150)
    assert json.dumps(first) == json.dumps(again)
    assert metrics["heldout_nll_gate"] < metrics["heldout_nll_local"]
    assert metrics["heldout_nll_gate"] < metrics["heldout_nll_fixed"]
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(first))
    gate = MlpGate.load(path)
    agree, disagree = positions[0].feats, positions[1].feats
    assert gate.weight(agree) > 0.5 > gate.weight(disagree)
    assert path.stat().st_size < 8000  # a handful of numbers


def test_collected_pairs_round_trip_through_json(tmp_path):
    positions = synthetic(8)
    save_positions(tmp_path / "pairs.json", positions)
    back = load_positions(tmp_path / "pairs.json")
    assert [p.target for p in back] == [p.target for p in positions]
    assert np.allclose(back[3].cloud, positions[3].cloud)


def test_train_gate_command_writes_a_gate_from_saved_pairs(tmp_path):
    pairs = tmp_path / "pairs.json"
    save_positions(pairs, synthetic())
    out = tmp_path / "gate.json"
    result = CliRunner().invoke(
        collab,
        ["train-gate", "--pairs", str(pairs), "--out", str(out), "--seed", "3", "--epochs", "50"],
    )
    assert result.exit_code == 0, result.output
    assert "held-out NLL" in result.output
    spec = json.loads(out.read_text())
    assert spec["features"] == list(FEATURES) and spec["seed"] == 3


def test_no_positions_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no training positions"):
        train([], seed=0)


@pytest.mark.e2e
def test_pairs_are_collected_from_real_models(tmp_path):
    from cogate.collab.logits.train import collect
    from cogate.collab.runtime import LocalModel
    from cogate.core.settings import Settings

    sample = {
        "conversations": [
            {"from": "user", "value": "Write a note: Tell a friend about your weekend."},
            {
                "from": "assistant",
                "value": "Hi Sam! This weekend I finally went hiking by the lake.",
            },
        ],
        "profile": [{"title": "A note", "text": "Had a lovely time at the lake."}],
        "additional_profile": "Name: Ana Ruiz\nLocation: Lyon, France\nPrivacy_info: Hikes alone",
    }
    model = LocalModel(Settings(data_dir=tmp_path, local_isolation="thread"))
    positions = collect([sample], model, model, answer_tokens=12)
    assert positions
    assert all(len(p.feats) == len(FEATURES) and np.all(np.isfinite(p.feats)) for p in positions)
    assert all(0 <= p.target < len(p.local) for p in positions)
