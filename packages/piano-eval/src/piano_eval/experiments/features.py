"""``baseline-features``: hand-crafted MIDI features -> ridge regression or a one-hidden-layer MLP."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from piano_data.errors import PianoDataError
from piano_data.samples import Segment, stack_labels
from piano_symbolic.features import FEATURE_NAMES, features_for_files
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from piano_eval.experiments.base import Experiment, Prediction, RunContext
from piano_eval.metrics import centre_by_group
from piano_eval.model_arrays import from_pipeline, load_models, save_models


@dataclass(frozen=True)
class FeatureBaselineConfig:
    """The preset keys of ``baseline-features`` (type-checked when the experiment is built)."""

    model: Literal["mlp", "ridge"] = "mlp"
    hidden: int = 128
    alpha: float = 3.0  # MLP L2 penalty (chosen on PercePiano piece4: 0.01 -> R^2 0.371, 1.0 -> 0.449, 3.0 -> 0.461)
    max_iter: int = 400
    use_score: bool = True
    ensemble: int = 3  # MLPs of different seeds averaged
    # Also give each segment its features minus the mean over the segments of its passage (same ``group``) in
    # the same set: train-set passages for training, test-set passages for testing (labels are never used).
    passage_relative: bool = False


def passage_relative(x: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """``[x, x - mean of x over the rows of the same group]``; a group of one row gets zeros in the second half."""
    return np.concatenate([x, centre_by_group(x, groups)], axis=1)


class FeatureBaseline(Experiment):
    id = "baseline-features"
    group = "baseline"
    description = (
        f"{len(FEATURE_NAMES)} hand-crafted MIDI features (timing, velocity, articulation, pedal, score deviation)"
    )

    config_type = FeatureBaselineConfig

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self._features: dict[str, np.ndarray] = {}

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        scores = [s.score_midi_path if self.config["use_score"] else None for s in segments]
        feats = features_for_files([s.midi_path for s in segments], scores)
        self._features = {s.key: row for s, row in zip(segments, feats, strict=True)}

    def _x(self, segments: Sequence[Segment]) -> np.ndarray:
        missing = [s for s in segments if s.key not in self._features]
        if missing:
            self.prepare(missing, RunContext(workdir=None))  # type: ignore[arg-type]
        x = np.stack([self._features[s.key] for s in segments])
        return passage_relative(x, [s.group for s in segments]) if self.config["passage_relative"] else x

    def _model(self, seed: int) -> Any:
        if self.config["model"] == "ridge":
            return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 12)))
        return make_pipeline(
            StandardScaler(),
            MLPRegressor(
                hidden_layer_sizes=(int(self.config["hidden"]),),
                alpha=float(self.config["alpha"]),
                max_iter=int(self.config["max_iter"]),
                early_stopping=True,
                validation_fraction=0.15,
                n_iter_no_change=20,
                random_state=seed,
            ),
        )

    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        x_train, y_train, x_test = self._x(train), stack_labels(list(train)), self._x(test)
        n_models = 1 if self.config["model"] == "ridge" else int(self.config["ensemble"])
        with warnings.catch_warnings():  # early stopping decides; a capped run is not an error
            warnings.simplefilter("ignore", ConvergenceWarning)
            preds = [
                self._model(ctx.seed * 1000 + fold * 10 + k).fit(x_train, y_train).predict(x_test)
                for k in range(n_models)
            ]
        return np.clip(np.mean(preds, axis=0), 0.0, 1.0)

    # --- checkpoint: train once on everything, then score new performances -------------------------------
    def fit(self, train: Sequence[Segment], ctx: RunContext) -> None:
        x, y = self._x(train), stack_labels(list(train))
        n_models = 1 if self.config["model"] == "ridge" else max(int(self.config["ensemble"]), 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._models = [self._model(ctx.seed * 1000 + k).fit(x, y) for k in range(n_models)]
        self._train_range = np.percentile(x, [1, 99], axis=0)

    def predict(self, segments: Sequence[Segment], ctx: RunContext) -> Prediction:
        """Mean over the ensemble; confidence falls with ensemble spread and with features outside training range.

        confidence = exp(-std / 0.05) * (1 - share of features outside the training 1st-99th percentiles).
        """
        if not getattr(self, "_models", None):
            raise RuntimeError("baseline-features: fit() or load() first")
        for s in segments:  # keys name windows, not contents: never reuse features of an earlier call
            self._features.pop(s.key, None)
        x = self._x(segments)
        preds = np.stack([m.predict(x) for m in self._models])
        values = np.clip(preds.mean(axis=0), 0.0, 1.0)
        lo, hi = self._train_range
        outside = ((x < lo) | (x > hi)).mean(axis=1, keepdims=True)
        spread = preds.std(axis=0) if len(preds) > 1 else np.zeros_like(values)
        confidence = np.exp(-spread / 0.05) * (1.0 - outside)
        details = [
            {
                "features": dict(zip(FEATURE_NAMES, map(float, row[: len(FEATURE_NAMES)]), strict=True)),
                "out_of_range_share": float(o),
            }
            for row, o in zip(x, outside[:, 0], strict=True)
        ]
        return Prediction(values, np.clip(confidence, 0.0, 1.0), details)

    def save(self, directory: Path) -> None:
        """``features_models.npz`` (plain arrays) + ``features_models.json``: no pickle (see model_arrays)."""
        models = [m if not hasattr(m, "steps") else from_pipeline(m) for m in self._models]
        save_models(directory, "features_models", models, {"train_range": self._train_range})

    def load(self, directory: Path) -> None:
        n_inputs = len(FEATURE_NAMES) * (2 if self.config["passage_relative"] else 1)
        models, extra = load_models(directory, "features_models", n_inputs)
        train_range = extra.get("train_range")
        if train_range is None or train_range.shape != (2, n_inputs) or train_range.dtype.kind != "f":
            raise PianoDataError(directory / "features_models.npz", "checkpoint has no valid train_range")
        kind = self.config["model"]
        widths = {m.weights[0].shape[1] if m.kind == "mlp" else None for m in models}
        if {m.kind for m in models} != {kind} or (kind == "mlp" and widths != {int(self.config["hidden"])}):
            raise PianoDataError(
                directory / "features_models.npz",
                f"models ({sorted({m.kind for m in models})}, hidden {sorted(map(str, widths))}) do not match the "
                f"config (model {kind}, hidden {self.config['hidden']})",
            )
        self._models, self._train_range = list(models), train_range
