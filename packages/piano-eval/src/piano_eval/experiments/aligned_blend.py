"""The hand-crafted-features MLP of ``baseline-features`` as plain arrays, and the validation-chosen blend weight.

``s4`` with ``blend_features_mlp`` averages its learned prediction with this MLP ensemble's,
``w x learned + (1 - w) x MLP``, ``w`` chosen on the fold's validation groups, after which the MLPs are refitted
on every training segment (they need no early-stopping groups). With ``blend_split`` the blend has two weights:
one for each passage's mean prediction over its performances in the predicted set (the passage's level) and one
for each performance's departure from that mean (what ranks performers of the same passage), chosen together.
The MLPs are fitted by scikit-learn exactly as ``baseline-features`` fits them, then kept as arrays (scaler,
weights), so a checkpoint stores them as safetensors instead of a pickle.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

__all__ = ["BLEND_GRID", "Weight", "blend", "choose_weights", "fit_mlps", "is_unblended", "mlp_predict"]

#: Candidate weights of the learned prediction.
BLEND_GRID: tuple[float, ...] = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


def fit_mlps(x: np.ndarray, y: np.ndarray, seeds: Sequence[int]) -> list[dict[str, np.ndarray]]:
    """One ``baseline-features`` MLP (quick preset: 128 hidden, alpha 3.0, early stopping) per seed, as arrays."""
    from sklearn.exceptions import ConvergenceWarning

    from piano_eval.experiments.features import FeatureBaseline

    base = FeatureBaseline({})
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in seeds:
            pipe = base._model(seed).fit(x, y)
            scaler, mlp = pipe[0], pipe[-1]
            if mlp.activation != "relu" or len(mlp.coefs_) != 2:
                raise ValueError("s4 blend: expected a one-hidden-layer ReLU MLP")
            out.append(
                {
                    "mean": scaler.mean_,
                    "scale": scaler.scale_,
                    "w0": mlp.coefs_[0],
                    "b0": mlp.intercepts_[0],
                    "w1": mlp.coefs_[1],
                    "b1": mlp.intercepts_[1],
                }
            )
    return out


def mlp_predict(mlps: Sequence[dict[str, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """Mean prediction ``[N, 19]`` of the ensemble (what scikit-learn's ``predict`` computes)."""
    preds = []
    for p in mlps:
        h = np.maximum(((x - p["mean"]) / p["scale"]) @ p["w0"] + p["b0"], 0.0)
        preds.append(h @ p["w1"] + p["b1"])
    return np.mean(preds, axis=0)


#: The weight of the learned prediction: one for all 19 dimensions, or one per dimension (``[19]``).
Weight = float | np.ndarray


def blend(learned: np.ndarray, mlp: np.ndarray, weights: tuple[Weight, Weight], groups: Sequence[str]) -> np.ndarray:
    """Blend ``learned`` ``[..., N, 19]`` with ``mlp`` ``[N, 19]``, weights ``(between, within)`` of ``learned``:
    ``between`` for each passage's mean over its rows (``groups`` names each row's passage), ``within`` for each
    row's departure from it. Equal weights give ``w x learned + (1 - w) x mlp``; a passage of one row takes
    ``between``. Each weight is one number or one per dimension."""
    from piano_eval.metrics import centre_by_group

    between, within = np.asarray(weights[0], dtype=np.float64), np.asarray(weights[1], dtype=np.float64)
    out = between * learned + (1.0 - between) * mlp
    if np.any(within != between):
        rows = learned.reshape(-1, *learned.shape[-2:])
        dev = np.stack([centre_by_group(r - mlp, groups) for r in rows]).reshape(learned.shape)
        out = out + (within - between) * dev
    return out


def choose_weights(
    learned: np.ndarray,
    mlp: np.ndarray,
    y: np.ndarray,
    groups: Sequence[str],
    split: bool = False,
    per_dim: bool = False,
) -> tuple[Weight, Weight]:
    """The ``(between, within)`` weights of ``learned`` from :data:`BLEND_GRID` with the lowest MSE of the clipped
    blend against ``y`` (NaN labels ignored; ties: the smaller). Without ``split`` one weight serves both; with
    ``per_dim`` each rating dimension gets its own (arrays ``[19]``), chosen on its own error."""
    pairs = [(b, w) for b in BLEND_GRID for w in BLEND_GRID] if split else [(w, w) for w in BLEND_GRID]
    squared = [(np.clip(blend(learned, mlp, p, groups), 0, 1) - y) ** 2 for p in pairs]
    if not per_dim:
        b, w = pairs[int(np.argmin([float(np.nanmean(e)) for e in squared]))]
        return float(b), float(w)
    with warnings.catch_warnings():  # a dimension without any label in y: NaN error, the first pair wins
        warnings.simplefilter("ignore", RuntimeWarning)
        errors = np.stack([np.nanmean(e.reshape(-1, e.shape[-1]), axis=0) for e in squared])  # [pairs, 19]
    best = np.argmin(np.nan_to_num(errors, nan=np.inf), axis=0)
    return np.array([pairs[i][0] for i in best]), np.array([pairs[i][1] for i in best])


def is_unblended(weights: tuple[Weight, Weight]) -> bool:
    """Whether ``weights`` give the learned prediction alone (every weight 1)."""
    return bool(np.all(np.asarray(weights[0]) == 1.0) and np.all(np.asarray(weights[1]) == 1.0))
