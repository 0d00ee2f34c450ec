from __future__ import annotations

import itertools

import numpy as np
import pytest
from piano_eval import metrics
from scipy import stats
from sklearn.metrics import mean_squared_error, r2_score


def test_r2_is_equal_weight_mean_of_per_dim_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.random((50, 19))
    p = y + rng.normal(0, 0.1, y.shape) * np.linspace(0.5, 3, 19)
    per_dim = [r2_score(y[:, d], p[:, d]) for d in range(19)]
    assert metrics.r2(y, p) == pytest.approx(np.mean(per_dim))
    np.testing.assert_allclose(metrics.r2_per_dim(y, p), per_dim)
    # differs from sklearn's variance-weighted multi-output R^2 when variances differ
    y[:, 0] *= 10
    p[:, 0] *= 10
    assert metrics.r2(y, p) != pytest.approx(r2_score(y, p, multioutput="variance_weighted"))
    assert metrics.mse(y, p) == pytest.approx(mean_squared_error(y, p))


def test_r2_known_answers() -> None:
    y = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert metrics.r2(y, y) == 1.0
    assert metrics.r2(y, np.full_like(y, y.mean())) == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.r2(y, y[:2])


def test_pairwise_accuracy_hand_computed() -> None:
    y = np.array([[0.1], [0.5], [0.9], [0.2], [0.21]])
    groups = ["a", "a", "a", "b", "b"]
    p = np.array([[0.2], [0.1], [0.8], [0.5], [0.4]])
    # group a pairs: (0,1) true up, pred down: wrong; (0,2) up/up right; (1,2) up/up right
    # group b pair (3,4): |0.01| <= 0.05: ambiguous, skipped
    acc, counts = metrics.pairwise_accuracy_per_dim(y, p, groups)
    assert counts.tolist() == [3]
    assert acc[0] == pytest.approx(2 / 3)
    assert metrics.pairwise_accuracy(y, p, groups, threshold=0.0) == pytest.approx(2 / 4)


def test_pairwise_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    y, p = rng.random((30, 3)), rng.random((30, 3))
    groups = [str(i % 4) for i in range(30)]
    acc, _ = metrics.pairwise_accuracy_per_dim(y, p, groups, threshold=0.1)
    for d in range(3):
        right = total = 0
        for i, j in itertools.combinations(range(30), 2):
            if groups[i] == groups[j] and abs(y[i, d] - y[j, d]) > 0.1:
                total += 1
                right += (y[i, d] - y[j, d]) * (p[i, d] - p[j, d]) > 0
        assert acc[d] == pytest.approx(right / total)


def test_no_pairs_is_nan() -> None:
    y = np.random.default_rng(0).random((4, 2))
    assert np.isnan(metrics.pairwise_accuracy(y, y, ["a", "b", "c", "d"]))


def test_rank_correlations_match_scipy() -> None:
    rng = np.random.default_rng(2)
    x, z = rng.random(40), rng.random(40)
    assert metrics.spearman(x, z) == pytest.approx(stats.spearmanr(x, z).statistic)
    assert metrics.kendall(x, z) == pytest.approx(stats.kendalltau(x, z).statistic)
    assert metrics.pearson(x, z) == pytest.approx(stats.pearsonr(x, z).statistic)
    assert metrics.spearman(np.arange(5), np.arange(5) ** 2) == pytest.approx(1.0)


def test_beat_errors_and_their_summary() -> None:
    from piano_symbolic.align import TimeMap

    tmap = TimeMap(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 4.0]))
    err = metrics.beat_errors(tmap, np.array([0.5, 1.5, 2.0]), np.array([1.5, 3.04, 3.8]))
    np.testing.assert_allclose(err, [0.0, -0.04, 0.2], atol=1e-12)
    summary = metrics.summarize_beat_errors(err, np.array([True, False, False]))
    assert summary["n_beats"] == 3
    assert summary["beats_within_50ms"] == pytest.approx(2 / 3)
    assert summary["median_ms"] == pytest.approx(40.0)
    assert summary["mean_ms"] == pytest.approx(80.0)
    assert summary["downbeats_within_30ms"] == 1.0
    empty = metrics.summarize_beat_errors(np.zeros(0), np.zeros(0, bool))
    assert empty["n_beats"] == 0 and np.isnan(empty["beats_within_50ms"])


def test_r2_within_work_removes_work_means() -> None:
    rng = np.random.default_rng(1)
    works = np.repeat(["a", "b", "c"], 20)
    offsets = {"a": 0.2, "b": 0.5, "c": 0.8}
    within = rng.normal(0, 0.05, (60, 3))
    y = within + np.array([offsets[w] for w in works])[:, None]
    # predicting each work's mean: R^2 high overall, exactly 0 within works
    means = np.array([offsets[w] for w in works])[:, None] * np.ones((1, 3))
    assert metrics.r2(y, means) > 0.9
    assert metrics.r2_within_work(y, means, works) == pytest.approx(0.0)
    # the within-work part predicted, shifted by any per-work constant: perfect within works
    shifted = within + np.array([{"a": 5.0, "b": -1.0, "c": 0.0}[w] for w in works])[:, None]
    assert metrics.r2_within_work(y, shifted, works) == pytest.approx(1.0)
    assert metrics.r2(y, shifted) < 0
    # hand case: one work, two rows
    y2, p2 = np.array([[0.0], [1.0]]), np.array([[0.2], [0.4]])
    # centred: y (-0.5, 0.5), p (-0.1, 0.1): R^2 = 1 - 2 * 0.16 / 0.5
    assert metrics.r2_within_work(y2, p2, ["w", "w"]) == pytest.approx(1 - 0.32 / 0.5)
    # works with a single row are left out; none left: nan
    assert np.isnan(metrics.r2_within_work(y2, p2, ["w", "v"]))
    with pytest.raises(ValueError, match="works has"):
        metrics.r2_within_work(y2, p2, ["w"])
