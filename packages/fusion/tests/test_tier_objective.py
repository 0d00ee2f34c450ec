"""The tier terms: T2 ordinal pairs and T3 same-piece pairs on the one ranking and InfoNCE losses."""

from __future__ import annotations

import math

import pytest
import torch
from piano_fusion import QualityObjective, TierObjective, info_nce_loss, ordinal_pair_loss, pair_contrast_loss


def test_ordinal_pair_loss_known_answer_and_mean_over_dimensions() -> None:
    better, worse = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.5])
    expected = (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(0.5))) / 2
    assert float(ordinal_pair_loss(better, worse)) == pytest.approx(expected, rel=1e-6)
    # a [B, K] prediction is ranked by its mean over the dimensions, scaled by 1 / temperature
    wide_b, wide_w = better[:, None].repeat(1, 19), worse[:, None].repeat(1, 19)
    assert float(ordinal_pair_loss(wide_b * 0.5, wide_w * 0.5, temperature=0.5)) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="shapes differ"):
        ordinal_pair_loss(better, worse[:1])
    with pytest.raises(ValueError, match="temperature"):
        ordinal_pair_loss(better, worse, temperature=0.0)


def test_ordinal_pair_loss_falls_as_the_better_scores_rise() -> None:
    worse = torch.zeros(4)
    losses = [float(ordinal_pair_loss(torch.full((4,), gap), worse)) for gap in (-1.0, 0.0, 1.0, 3.0)]
    assert losses == sorted(losses, reverse=True)


def test_pair_contrast_is_info_nce_over_both_members() -> None:
    g = torch.Generator().manual_seed(0)
    z_a, z_b = torch.randn(3, 8, generator=g), torch.randn(3, 8, generator=g)
    pieces = ["x", "y", "x"]
    direct = info_nce_loss(torch.cat([z_a, z_b]), pieces + pieces, 0.1)
    assert float(pair_contrast_loss(z_a, z_b, pieces, 0.1)) == pytest.approx(float(direct))
    ids = torch.tensor([0, 1, 0])
    assert float(pair_contrast_loss(z_a, z_b, ids, 0.1)) == pytest.approx(float(direct))
    # aligned pairs of different pieces are easy; swapped ones are hard
    basis = torch.eye(3, 8)
    assert float(pair_contrast_loss(basis, basis, ["a", "b", "c"])) < float(
        pair_contrast_loss(basis, basis.roll(1, 0), ["a", "b", "c"])
    )


def test_tier_objective_weights_each_term() -> None:
    objective = TierObjective(QualityObjective(), ordinal_weight=0.25, contrast_weight=2.0)
    better, worse = torch.rand(4, 19), torch.rand(4, 19)
    t2 = objective.ordinal(better, worse)
    assert float(t2["loss"]) == pytest.approx(0.25 * float(ordinal_pair_loss(better, worse, 0.02)))
    z = torch.randn(4, 8)
    t3 = objective.contrast(z, z + 0.1, ["a", "b", "c", "d"])
    assert float(t3["loss"]) == pytest.approx(2.0 * float(t3["contrast"]))
    labels = torch.rand(4, 19)
    t1 = objective.labelled(labels, {"labels": labels, "group": ["a", "a", "b", "b"]})
    assert float(t1["mse"]) == 0.0 and set(t1) == {"loss", "mse", "rank"}
