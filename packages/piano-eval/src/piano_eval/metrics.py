"""Every metric of the project, computed here and nowhere else.

- :func:`r2`: the PercePiano paper's R^2, the equal-weight mean over dimensions of sklearn's per-dimension
  ``r2_score`` (not the variance-weighted multi-output R^2).
- :func:`pairwise_accuracy`: for every pair of performances of the same passage (same group) and every
  dimension where their ratings differ by more than ``threshold``, whether the predictions order them the same
  way; averaged per dimension, then over dimensions.
- :func:`r2_within_work`: :func:`r2` after removing each work's mean rating and mean prediction (deadpan
  renditions left out by the caller): how well the ranking *within* a work is explained, without the
  between-work differences that dominate R^2 on PercePiano.
- :func:`spearman`, :func:`kendall`: rank correlations for difficulty.
- :func:`beat_errors`, :func:`summarize_beat_errors`: score alignment against annotated beats (ASAP style).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from piano_data.splits import same_group_pairs
from scipy import stats
from sklearn.metrics import r2_score

if TYPE_CHECKING:  # the aligner (numba) is not imported with the metrics
    from piano_symbolic.align.types import TimeMap

__all__ = [
    "DEFAULT_PAIR_THRESHOLD",
    "beat_errors",
    "centre_by_group",
    "kendall",
    "mse",
    "pairwise_accuracy",
    "pairwise_accuracy_per_dim",
    "pearson",
    "r2",
    "r2_per_dim",
    "r2_within_work",
    "robustness",
    "same_group_pairs",
    "spearman",
    "summarize_beat_errors",
]

#: Pairs whose true ratings differ by no more than this (on the [0, 1] label scale) are ambiguous and skipped.
DEFAULT_PAIR_THRESHOLD = 0.05


def _as_2d(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim == 1:
        t, p = t[:, None], p.reshape(-1, 1)
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in shape")
    if len(t) < 2:
        raise ValueError("metrics need at least two samples")
    return t, p


def r2_per_dim(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """sklearn ``r2_score`` of each dimension (column)."""
    t, p = _as_2d(y_true, y_pred)
    return np.asarray(r2_score(t, p, multioutput="raw_values"), dtype=np.float64)


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Equal-weight mean over dimensions of the per-dimension R^2 (as the PercePiano paper computes it)."""
    return float(np.mean(r2_per_dim(y_true, y_pred)))


def centre_by_group(x: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """``x`` (rows) minus the mean of the rows of the same group (``groups`` names each row's group); a group of
    one row becomes zeros."""
    keys = np.asarray(list(groups))
    if len(keys) != len(x):
        raise ValueError(f"groups has {len(keys)} entries for {len(x)} rows")
    out = np.empty_like(x)
    for g in np.unique(keys):
        rows = keys == g
        out[rows] = x[rows] - x[rows].mean(axis=0)
    return out


def r2_within_work(y_true: np.ndarray, y_pred: np.ndarray, works: Sequence[str]) -> float:
    """:func:`r2` of ratings and predictions each centred on its work's mean (``works`` names each row's work).

    A model that only knew each work's mean rating scores 0; ``nan`` when no work has two rows.
    """
    t, p = _as_2d(y_true, y_pred)
    w = np.asarray(list(works))
    if len(w) != len(t):
        raise ValueError(f"works has {len(w)} entries for {len(t)} rows")
    names, counts = np.unique(w, return_counts=True)
    keep = np.isin(w, names[counts >= 2])
    if keep.sum() < 2:
        return float("nan")
    return r2(centre_by_group(t, works)[keep], centre_by_group(p, works)[keep])


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = _as_2d(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def pairwise_accuracy_per_dim(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: Sequence[str],
    threshold: float = DEFAULT_PAIR_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension same-group pairwise accuracy and the number of unambiguous pairs behind each.

    A dimension with no unambiguous pair gets ``nan``. Ties in the prediction count as half right.
    """
    t, p = _as_2d(y_true, y_pred)
    if len(groups) != len(t):
        raise ValueError(f"{len(groups)} groups for {len(t)} samples")
    pairs = same_group_pairs(groups)
    n_dims = t.shape[1]
    if len(pairs) == 0:
        return np.full(n_dims, np.nan), np.zeros(n_dims, dtype=np.int64)
    dt = t[pairs[:, 0]] - t[pairs[:, 1]]
    dp = p[pairs[:, 0]] - p[pairs[:, 1]]
    valid = np.abs(dt) > threshold
    score = np.where(np.sign(dp) == np.sign(dt), 1.0, np.where(dp == 0, 0.5, 0.0))
    counts = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(counts > 0, (score * valid).sum(axis=0) / np.maximum(counts, 1), np.nan)
    return acc, counts.astype(np.int64)


def pairwise_accuracy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: Sequence[str],
    threshold: float = DEFAULT_PAIR_THRESHOLD,
) -> float:
    """Mean over dimensions of :func:`pairwise_accuracy_per_dim` (``nan`` when no dimension has a pair)."""
    acc, _ = pairwise_accuracy_per_dim(y_true, y_pred, groups, threshold)
    return float(np.nanmean(acc)) if np.isfinite(acc).any() else float("nan")


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.spearmanr(x, y).statistic)


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.kendalltau(x, y).statistic)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.pearsonr(np.ravel(x), np.ravel(y)).statistic)


def robustness(
    y_true: np.ndarray,
    pred_clean: np.ndarray,
    pred_augmented: dict[str, np.ndarray],
    groups: Sequence[str],
    threshold: float = DEFAULT_PAIR_THRESHOLD,
) -> dict[str, object]:
    """Pairwise accuracy on clean vs augmented inputs, per augmentation.

    For each augmentation: its pairwise accuracy, the relative ``drop`` ((clean - augmented) / clean), and the
    Pearson r between clean and augmented predictions (all values flattened). ``mean_drop`` averages the drops
    over augmentations (the winner-selection veto reads it); ``max_drop`` is the worst one.
    """
    clean = pairwise_accuracy(y_true, pred_clean, groups, threshold)
    per_aug: dict[str, dict[str, float]] = {}
    for name, pred in sorted(pred_augmented.items()):
        acc = pairwise_accuracy(y_true, pred, groups, threshold)
        per_aug[name] = {
            "pairwise_accuracy": acc,
            "drop": (clean - acc) / clean if clean and np.isfinite(clean) and np.isfinite(acc) else float("nan"),
            "pearson_clean_vs_augmented": pearson(pred_clean, pred),
        }
    drops = [v["drop"] for v in per_aug.values() if np.isfinite(v["drop"])]
    return {
        "pairwise_clean": clean,
        "per_augmentation": per_aug,
        "mean_drop": float(np.mean(drops)) if drops else None,
        "max_drop": float(np.max(drops)) if drops else None,
    }


def beat_errors(time_map: TimeMap, score_beats: np.ndarray, perf_beats: np.ndarray) -> np.ndarray:
    """Signed error (s) of each score beat mapped to the performance by ``time_map``, against the annotated beat."""
    return time_map(np.asarray(score_beats, dtype=np.float64)) - np.asarray(perf_beats, dtype=np.float64)


def summarize_beat_errors(errors: np.ndarray, downbeat: np.ndarray) -> dict[str, float]:
    """Median/mean absolute beat error (ms), shares of beats within 30/50/100 ms and of downbeats within
    30/100 ms (NaN where there are no beats)."""
    err = np.abs(np.asarray(errors, dtype=np.float64))
    down = err[np.asarray(downbeat, dtype=bool)]
    out = {
        "n_beats": len(err),
        "median_ms": float(np.median(err) * 1000) if len(err) else float("nan"),
        "mean_ms": float(np.mean(err) * 1000) if len(err) else float("nan"),
    }
    for ms in (30, 50, 100):
        out[f"beats_within_{ms}ms"] = float(np.mean(err <= ms / 1000)) if len(err) else float("nan")
    for ms in (30, 100):
        out[f"downbeats_within_{ms}ms"] = float(np.mean(down <= ms / 1000)) if len(down) else float("nan")
    return out
