"""Fitted scikit-learn regressors as plain arrays + JSON, read back without unpickling anything.

A ``StandardScaler -> RidgeCV | MLPRegressor`` pipeline (what ``baseline-features`` trains) is reduced to its
parameters: the scaler's ``mean_``/``scale_``, the ridge's ``coef_``/``intercept_``, the MLP's ``coefs_``/
``intercepts_`` and activation. :func:`save_models` writes them to ``<stem>.npz`` (``np.savez``, read back with
``allow_pickle=False``) and a ``<stem>.json`` manifest holding the layout and the sha256 of the ``.npz``;
:class:`ArrayRegressor` predicts with a numpy forward pass that reproduces ``pipeline.predict``. A checkpoint
from someone else can therefore run no code of theirs, and a tampered, truncated or mismatched one ends with a
one-line :class:`~piano_data.errors.PianoDataError` naming the file.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.atomic import write_bytes_atomic
from piano_data.errors import PianoDataError, read_json

from piano_eval.provenance import write_json_atomic

__all__ = ["ArrayRegressor", "from_pipeline", "load_models", "save_models"]

FORMAT = "piano-eval-sklearn-arrays-v1"
_ACTIVATIONS = ("relu", "tanh", "logistic", "identity")


@dataclass(frozen=True)
class ArrayRegressor:
    """A standardise-then-regress model held as arrays: ``kind`` is ``ridge`` (one linear layer) or ``mlp``."""

    kind: str
    mean: np.ndarray  # [F]
    scale: np.ndarray  # [F]
    weights: tuple[np.ndarray, ...]  # [F, H1], [H1, H2], ..., [Hk, D] (ridge: one [F, D])
    biases: tuple[np.ndarray, ...]  # [H1], ..., [D]
    activation: str = "identity"

    @property
    def n_features(self) -> int:
        return len(self.mean)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``[N, F] -> [N, D]``, as the fitted pipeline's ``predict``."""
        h = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w + b
            if i < len(self.weights) - 1:
                h = _activate(h, self.activation)
        return h


def _activate(h: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return np.maximum(h, 0.0)
    if name == "tanh":
        return np.tanh(h)
    if name == "logistic":
        return 1.0 / (1.0 + np.exp(-h))
    return h


def from_pipeline(pipeline: Any) -> ArrayRegressor:
    """The arrays of a fitted ``make_pipeline(StandardScaler(), RidgeCV() | MLPRegressor())``."""
    from sklearn.linear_model import Ridge, RidgeCV
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    steps = [step for _, step in pipeline.steps]
    if len(steps) != 2 or not isinstance(steps[0], StandardScaler):
        raise TypeError(f"expected StandardScaler -> regressor, got {[type(s).__name__ for s in steps]}")
    scaler, reg = steps
    scale = np.asarray(scaler.scale_ if scaler.scale_ is not None else np.ones_like(scaler.mean_), dtype=np.float64)
    mean = np.asarray(scaler.mean_, dtype=np.float64)
    if isinstance(reg, Ridge | RidgeCV):
        coef = np.atleast_2d(np.asarray(reg.coef_, dtype=np.float64))
        return ArrayRegressor("ridge", mean, scale, (coef.T,), (np.atleast_1d(np.asarray(reg.intercept_, float)),))
    if isinstance(reg, MLPRegressor):
        if reg.out_activation_ != "identity":
            raise TypeError(f"MLPRegressor with output activation {reg.out_activation_!r} is not supported")
        return ArrayRegressor(
            "mlp",
            mean,
            scale,
            tuple(np.asarray(w, dtype=np.float64) for w in reg.coefs_),
            tuple(np.asarray(b, dtype=np.float64) for b in reg.intercepts_),
            str(reg.activation),
        )
    raise TypeError(f"unsupported regressor {type(reg).__name__}")


def save_models(
    directory: Path, stem: str, models: Sequence[ArrayRegressor], extra: dict[str, np.ndarray] | None = None
) -> None:
    """Write ``<stem>.npz`` (every array) and ``<stem>.json`` (layout + sha256 of the npz), each atomically."""
    arrays: dict[str, np.ndarray] = {}
    layout = []
    for k, m in enumerate(models):
        arrays[f"m{k}_mean"], arrays[f"m{k}_scale"] = m.mean, m.scale
        for i, (w, b) in enumerate(zip(m.weights, m.biases, strict=True)):
            arrays[f"m{k}_w{i}"], arrays[f"m{k}_b{i}"] = w, b
        layout.append({"kind": m.kind, "layers": len(m.weights), "activation": m.activation})
    for name, arr in (extra or {}).items():
        arrays[f"extra_{name}"] = np.asarray(arr)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as the allow_pickle flag
    blob = buf.getvalue()
    write_bytes_atomic(directory / f"{stem}.npz", blob)
    write_json_atomic(
        directory / f"{stem}.json",
        {
            "format": FORMAT,
            "sha256": hashlib.sha256(blob).hexdigest(),
            "models": layout,
            "extra": sorted(extra or {}),
        },
    )


def load_models(directory: Path, stem: str, n_features: int) -> tuple[list[ArrayRegressor], dict[str, np.ndarray]]:
    """Read what :func:`save_models` wrote; checks the hash, the layout and every shape against ``n_features``."""
    manifest_path, npz_path = Path(directory) / f"{stem}.json", Path(directory) / f"{stem}.npz"
    for p in (manifest_path, npz_path):
        if not p.is_file():
            raise PianoDataError(p, "checkpoint file missing")
    manifest = read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PianoDataError(manifest_path, f"not a {FORMAT} manifest")
    blob = npz_path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != manifest.get("sha256"):
        raise PianoDataError(
            npz_path, "checkpoint arrays do not match their manifest (sha256 differs): tampered or torn"
        )
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise PianoDataError(npz_path, f"unreadable checkpoint arrays ({str(exc).splitlines()[0]})") from None
    odd = sorted(name for name, value in arrays.items() if not isinstance(value, np.ndarray))
    if odd:  # NpzFile hands back raw bytes for a member that is not a .npy array
        raise PianoDataError(npz_path, f"unreadable checkpoint arrays ({odd[0]} is not a .npy array)")
    try:
        models = [_model_from(arrays, k, spec, n_features) for k, spec in enumerate(manifest["models"])]
        extra = {name: arrays[f"extra_{name}"] for name in manifest["extra"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise PianoDataError(npz_path, f"checkpoint does not fit this model ({exc})") from None
    if not models:
        raise PianoDataError(manifest_path, "checkpoint holds no model")
    return models, extra


def _model_from(arrays: dict[str, np.ndarray], k: int, spec: dict[str, Any], n_features: int) -> ArrayRegressor:
    kind, layers, activation = spec["kind"], int(spec["layers"]), spec["activation"]
    if kind not in ("ridge", "mlp") or activation not in _ACTIVATIONS or not 1 <= layers <= 8:
        raise ValueError(f"model {k}: unknown layout {spec}")
    mean, scale = arrays[f"m{k}_mean"], arrays[f"m{k}_scale"]
    weights = tuple(arrays[f"m{k}_w{i}"] for i in range(layers))
    biases = tuple(arrays[f"m{k}_b{i}"] for i in range(layers))
    arrs = (mean, scale, *weights, *biases)
    if any(a.dtype.kind != "f" or not np.all(np.isfinite(a)) for a in arrs):
        raise ValueError(f"model {k}: arrays must be finite floats")
    if mean.shape != (n_features,) or scale.shape != (n_features,) or np.any(scale == 0):
        raise ValueError(f"model {k}: scaler expects {mean.shape} features, this model computes {n_features}")
    width = n_features
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
            raise ValueError(f"model {k}: layer {i} has shapes {w.shape} and {b.shape} after width {width}")
        width = w.shape[1]
    return ArrayRegressor(kind, mean, scale, weights, biases, activation)
