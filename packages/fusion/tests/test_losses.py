from __future__ import annotations

import math

import pytest
import torch
from piano_data.contracts import EncoderOutput
from piano_fusion import (
    QualityObjective,
    augmentation_invariance_loss,
    difficulty_loss,
    group_ids,
    info_nce_loss,
    masked_mean,
    pair_difference_loss,
    pairwise_ranking_loss,
    piece_contrast,
    regression_loss,
    total_loss,
)
from torch import nn

NAN = float("nan")


def test_regression_known_answer_masks_nan() -> None:
    pred = torch.tensor([[0.5, 0.2], [0.1, 0.1]], requires_grad=True)
    target = torch.tensor([[1.0, NAN], [0.1, 0.4]])
    loss = regression_loss(pred, target)
    assert loss.item() == pytest.approx((0.25 + 0.0 + 0.09) / 3)
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad[0, 1] == 0


def test_regression_no_labels_is_zero_with_graph() -> None:
    pred = torch.rand(2, 3, requires_grad=True)
    loss = regression_loss(pred, torch.full((2, 3), NAN))
    assert loss.item() == 0.0
    loss.backward()
    assert (pred.grad == 0).all()
    with pytest.raises(ValueError, match="shapes differ"):
        regression_loss(pred, torch.zeros(2, 4))


def test_ranking_known_answer() -> None:
    scores = torch.tensor([[1.0, 0.0], [0.0, 3.0], [5.0, 5.0]], requires_grad=True)
    # dim 0: pair (0, 1) differs by 0.3 -> counted; dim 1: 0.50 vs 0.52 < margin -> ignored;
    # sample 2 is another piece -> no pairs with it.
    labels = torch.tensor([[0.8, 0.50], [0.5, 0.52], [0.1, 0.9]])
    loss = pairwise_ranking_loss(scores, labels, ["a", "a", "b"], margin=0.05)
    assert loss.item() == pytest.approx(math.log1p(math.exp(-1.0)))
    loss.backward()
    assert torch.isfinite(scores.grad).all() and (scores.grad[2] == 0).all()


def test_ranking_reversed_order_and_nan() -> None:
    scores = torch.tensor([[0.0], [2.0], [1.0]])
    labels = torch.tensor([[0.9], [0.1], [NAN]])
    # y0 > y1 but s0 < s1: softplus(-(0 - 2)) = softplus(2); the NaN sample forms no pair.
    loss = pairwise_ranking_loss(scores, labels, torch.tensor([7, 7, 7]))
    assert loss.item() == pytest.approx(math.log1p(math.exp(2.0)))


def test_ranking_without_pairs_is_zero() -> None:
    scores = torch.rand(3, 19, requires_grad=True)
    labels = torch.rand(3, 19)
    assert pairwise_ranking_loss(scores, labels, ["a", "b", "c"]).item() == 0.0
    assert pairwise_ranking_loss(scores, labels.new_full((3, 19), 0.5), ["a", "a", "a"]).item() == 0.0


def test_info_nce_known_answer() -> None:
    z = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]], requires_grad=True)
    loss = info_nce_loss(z, ["p", "p", "q", "q"], temperature=1.0)
    # anchor 0: positive sim 1, negatives 0, 0 -> -log(e / (e + 2)), the same for every anchor
    assert loss.item() == pytest.approx(math.log(math.e + 2) - 1.0, rel=1e-5)
    loss.backward()
    assert torch.isfinite(z.grad).all()


def test_info_nce_several_positives() -> None:
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # anchor 0: two positives (sim 1) and one negative (sim 0): -log(e / (2e + 1)) for each positive
    # anchors 1, 2 alike; anchor 3 has no positive and is skipped.
    loss = info_nce_loss(z, [0, 0, 0, 1], temperature=1.0)
    assert loss.item() == pytest.approx(math.log(2 * math.e + 1) - 1.0, rel=1e-5)


def test_info_nce_one_piece_per_batch_is_zero() -> None:
    z = torch.randn(5, 8, requires_grad=True)
    loss = info_nce_loss(z, ["same"] * 5)
    assert loss.item() == 0.0
    loss.backward()
    assert (z.grad == 0).all()
    assert info_nce_loss(z, list("abcde")).item() == 0.0
    assert info_nce_loss(z[:1], ["a"]).item() == 0.0
    with pytest.raises(ValueError, match="groups for a batch"):
        info_nce_loss(z, ["a", "b"])


def test_info_nce_unknown_groups_are_negatives_only() -> None:
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    # rows 2 and 3 are of unknown pieces: no positives of each other, but negatives of anchors 0 and 1
    expected = math.log(math.e + 2) - 1.0
    for groups in ([0, 0, None, None], torch.tensor([0, 0, -1, -1])):
        assert info_nce_loss(z, groups, temperature=1.0).item() == pytest.approx(expected, rel=1e-5)
    # only unknown rows beside one known pair that has no negative: nothing to contrast
    assert info_nce_loss(z[:2], [0, 0]).item() == 0.0
    assert info_nce_loss(z, [None] * 4).item() == 0.0


def test_info_nce_exclude_same_performer() -> None:
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    piece = torch.tensor([0, 0, 1, 1])
    # each anchor: one positive (other performer) at cos 1, two negatives at cos 0, temperature 0.1
    expected = -math.log(math.exp(10) / (math.exp(10) + 2))
    got = info_nce_loss(z, piece, temperature=0.1, exclude=torch.tensor([0, 1, 0, 1]))
    assert got.item() == pytest.approx(expected, abs=1e-6)  # float32: about 9e-5 from log-sum-exp
    got = info_nce_loss(z, piece, temperature=1.0, exclude=torch.tensor([0, 1, 0, 1]))
    assert got.item() == pytest.approx(math.log(math.e + 2) - 1.0, rel=1e-5)
    # the same performer twice is no positive: no anchor has one, zero
    assert info_nce_loss(z, piece, exclude=["a", "a", "b", "b"]).item() == 0.0
    with pytest.raises(ValueError, match="exclude ids"):
        info_nce_loss(z, piece, exclude=[0, 1])


def test_invariance_known_answer() -> None:
    clean = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # aug == clean: each row's own view at cos 1, the other at cos 0: -log(e / (e + 1)) both ways
    loss = augmentation_invariance_loss(clean, clean.clone(), temperature=1.0)
    assert loss.item() == pytest.approx(math.log(math.e + 1) - 1.0, rel=1e-6)
    swapped = augmentation_invariance_loss(clean, clean.flip(0), temperature=1.0)
    assert swapped.item() == pytest.approx(math.log(math.e + 1), rel=1e-6)
    # invariant to scale (cosine), and a collapsed embedding is not a minimum
    assert augmentation_invariance_loss(clean, 3 * clean, temperature=1.0).item() == pytest.approx(loss.item())
    collapsed = torch.ones(2, 2)
    assert augmentation_invariance_loss(collapsed, collapsed, temperature=1.0).item() == pytest.approx(math.log(2))


def test_invariance_gradients_and_errors() -> None:
    clean = torch.randn(3, 4, requires_grad=True)
    aug = torch.randn(3, 4, requires_grad=True)
    augmentation_invariance_loss(clean, aug, stop_gradient_clean=True).backward()
    assert clean.grad is None and aug.grad is not None
    one = torch.randn(1, 4, requires_grad=True)
    zero = augmentation_invariance_loss(one, one * 2)
    assert zero.item() == 0.0
    zero.backward()
    assert one.grad is not None and (one.grad == 0).all()
    with pytest.raises(ValueError, match="shapes differ"):
        augmentation_invariance_loss(torch.zeros(2, 3), torch.zeros(3, 3))


def test_ranking_unknown_groups_form_no_pairs() -> None:
    scores = torch.tensor([[0.0], [2.0]])
    labels = torch.tensor([[0.9], [0.1]])
    assert pairwise_ranking_loss(scores, labels, [None, None]).item() == 0.0
    assert pairwise_ranking_loss(scores, labels, torch.tensor([-1, -1])).item() == 0.0


def test_difficulty_known_answers() -> None:
    assert difficulty_loss(torch.tensor([1.0, 2.0]), torch.tensor([2.0, NAN])).item() == 1.0
    logits = torch.zeros(2, 2)  # 3 levels, all probabilities 0.5 -> BCE log 2
    assert difficulty_loss(logits, torch.tensor([1.0, NAN]), "ordinal").item() == pytest.approx(math.log(2))
    confident = torch.tensor([[10.0, -10.0]])  # P(>0) ~ 1, P(>1) ~ 0: level 1
    assert difficulty_loss(confident, torch.tensor([1.0]), "ordinal").item() < 1e-4
    assert difficulty_loss(logits, torch.full((2,), NAN), "ordinal").item() == 0.0
    with pytest.raises(ValueError, match=r"integers in 0\.\.2"):
        difficulty_loss(logits, torch.tensor([3.0, 0.0]), "ordinal")


def test_total_loss_weighted_sum() -> None:
    terms = {"a": torch.tensor(1.0), "b": torch.tensor(2.0)}
    assert total_loss(terms, {"a": 0.5, "b": 2.0, "c": 9.0}).item() == 4.5
    with pytest.raises(KeyError, match="no weight"):
        total_loss(terms, {"a": 1.0})


def test_group_ids() -> None:
    assert group_ids(["x", "y", "x"]).tolist() == [0, 1, 0]
    assert group_ids(["x", None, "x"]).tolist() == [0, -1, 0]
    assert group_ids(torch.tensor([3, -5])).tolist() == [3, -1]
    with pytest.raises(ValueError, match="one id per sample"):
        group_ids(torch.zeros(2, 2))


def test_quality_objective_known_answer() -> None:
    pred = torch.tensor([[0.6], [0.5], [0.2]])
    labels = torch.tensor([[0.8], [0.4], [NAN]])
    out = QualityObjective(rank_weight=0.5, temperature=0.1)(pred, {"labels": labels, "group": ["a", "a", "a"]})
    mse = (0.2**2 + 0.1**2) / 2
    rank = math.log1p(math.exp(-(0.6 - 0.5) / 0.1))  # one pair (the NaN label forms none), ranked right
    assert out["mse"].item() == pytest.approx(mse, rel=1e-5)
    assert out["rank"].item() == pytest.approx(rank, rel=1e-5)
    assert out["loss"].item() == pytest.approx(mse + 0.5 * rank, rel=1e-5)
    with pytest.raises(ValueError, match="temperature"):
        QualityObjective(temperature=0.0)


def test_pair_difference_loss_known_answer_and_blind_to_a_shared_offset() -> None:
    pred = torch.tensor([[0.6, 0.1], [0.5, 0.3], [0.9, 0.9], [0.2, 0.2]])
    labels = torch.tensor([[0.8, 0.2], [0.4, NAN], [0.1, 0.1], [0.5, 0.5]])
    groups = ["a", "a", "b", None]  # "b" has one member; None pairs with nothing
    # one pair (0, 1), dimension 0 only (dimension 1 has a NaN label): ((0.6 - 0.5) - (0.8 - 0.4))^2
    assert pair_difference_loss(pred, labels, groups).item() == pytest.approx(0.3**2, rel=1e-5)
    # a level shared by the pair changes nothing: the loss reads differences only
    assert pair_difference_loss(pred + 0.25, labels, groups).item() == pytest.approx(0.3**2, rel=1e-5)
    out = QualityObjective(rank_weight=0.0, difference_weight=2.0)(pred, {"labels": labels, "group": groups})
    assert out["difference"].item() == pytest.approx(0.09, rel=1e-5)
    assert out["loss"].item() == pytest.approx(out["mse"].item() + 2.0 * 0.09, rel=1e-5)
    assert "difference" not in QualityObjective()(pred, {"labels": labels, "group": groups})
    lone = pair_difference_loss(pred, labels, ["a", "b", "c", "d"])  # no same-piece pair: an exact, connected zero
    assert lone.item() == 0.0 and lone.requires_grad is pred.requires_grad
    with pytest.raises(ValueError, match="groups for a batch"):
        pair_difference_loss(pred, labels, ["a"])


def test_piece_contrast_pools_then_projects() -> None:
    frames = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [9.0, 9.0]], [[2.0, 0.0], [0.0, 0.0], [0.0, 0.0]]])
    frames = torch.cat([frames, frames.flip(-1)])
    mask = torch.tensor([[True, True, False], [True, False, False]] * 2)
    out = EncoderOutput(frames, mask)
    got = piece_contrast(out, torch.tensor([0, 0, 1, 1]), nn.Identity(), 1.0)
    # pooled rows: [1,0], [2,0], [0,1], [0,2] (padding ignored): the info_nce known answer
    assert got.item() == pytest.approx(math.log(math.e + 2) - 1.0, rel=1e-5)
    assert torch.equal(masked_mean(frames, mask)[0], torch.tensor([1.0, 0.0]))
