from __future__ import annotations

import pytest
import torch
from fusion_testing import make_output
from piano_fusion import LossWeights, MultiTaskLoss, PianoModel, piano_model_tiny

MODS = ("audio", "perf_midi")


def _setup(difficulty: str = "regression"):
    cfg = piano_model_tiny(MODS, "gated", (24, 16))
    model = PianoModel(cfg)
    inputs = {"audio": make_output([3, 4, 5, 2], 24), "perf_midi": make_output([2, 2, 6, 3], 16)}
    return model, inputs


def test_all_terms_and_weighted_sum() -> None:
    model, inputs = _setup()
    weights = LossWeights(regression=1.0, ranking=0.5, contrastive=0.2, invariance=0.3, difficulty=0.1)
    crit = MultiTaskLoss(weights)
    batch = {
        "labels": torch.rand(4, 19),
        "piece": ["a", "a", "b", "b"],
        "difficulty": torch.tensor([1.0, 2.0, float("nan"), 3.0]),
    }
    out = model(inputs)
    aug = model({m: make_output([3, 4, 5, 2], d) for m, d in zip(MODS, (24, 16), strict=True)})
    terms = crit(out, batch, aug)
    assert set(terms) == {"regression", "ranking", "contrastive", "invariance", "difficulty", "loss"}
    expected = (
        terms["regression"]
        + 0.5 * terms["ranking"]
        + 0.2 * terms["contrastive"]
        + 0.3 * terms["invariance"]
        + 0.1 * terms["difficulty"]
    )
    torch.testing.assert_close(terms["loss"], expected)
    assert all(v.item() > 0 for v in terms.values())
    terms["loss"].backward()


def test_batch_without_signal_contributes_zero() -> None:
    model, inputs = _setup()
    crit = MultiTaskLoss(LossWeights(regression=1.0, ranking=1.0, contrastive=1.0, invariance=1.0, difficulty=1.0))
    terms = crit(model(inputs), {})
    assert terms["loss"].item() == 0.0 and terms["regression"].item() == 0.0
    terms["loss"].backward()  # still a graph, no error
    nan_labels = {"labels": torch.full((4, 19), float("nan")), "piece": ["x"] * 4}
    assert crit(model(inputs), nan_labels)["loss"].item() == 0.0


def test_zero_weight_terms_are_not_computed() -> None:
    model, inputs = _setup()
    terms = MultiTaskLoss(LossWeights())(model(inputs), {"labels": torch.rand(4, 19)})
    assert set(terms) == {"regression", "loss"}
    assert terms["loss"].item() == pytest.approx(terms["regression"].item())
