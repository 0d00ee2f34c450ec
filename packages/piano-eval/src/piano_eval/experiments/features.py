"""``baseline-features``: hand-crafted MIDI features -> ridge regression or a one-hidden-layer MLP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import warnings

import numpy as np
from piano_data.samples import Segment, stack_labels
from piano_symbolic.features import FEATURE_NAMES, features_for_files
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from piano_eval.experiments.base import Experiment, RunContext

DEFAULTS: dict[str, Any] = {
    "model": "mlp",  # "mlp" | "ridge"
    "hidden": 64,
    "alpha": 1e-2,  # MLP L2 penalty
    "max_iter": 400,
    "use_score": True,
    "ensemble": 3,  # MLPs of different seeds averaged
}


class FeatureBaseline(Experiment):
    id = "baseline-features"
    group = "baseline"
    description = f"{len(FEATURE_NAMES)} hand-crafted MIDI features (timing, velocity, articulation, pedal, score deviation)"

    defaults = DEFAULTS

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        if self.config["model"] not in ("mlp", "ridge"):
            raise ValueError(f"baseline-features: model must be 'mlp' or 'ridge', got {self.config['model']!r}")
        self._features: dict[str, np.ndarray] = {}

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        scores = [s.score_midi_path if self.config["use_score"] else None for s in segments]
        feats = features_for_files([s.midi_path for s in segments], scores)
        self._features = {s.key: row for s, row in zip(segments, feats, strict=True)}

    def _x(self, segments: Sequence[Segment]) -> np.ndarray:
        missing = [s for s in segments if s.key not in self._features]
        if missing:
            self.prepare(missing, RunContext(workdir=None))  # type: ignore[arg-type]
        return np.stack([self._features[s.key] for s in segments])

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

    def fit_predict(
        self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int
    ) -> np.ndarray:
        x_train, y_train, x_test = self._x(train), stack_labels(list(train)), self._x(test)
        n_models = 1 if self.config["model"] == "ridge" else int(self.config["ensemble"])
        with warnings.catch_warnings():  # early stopping decides; a capped run is not an error
            warnings.simplefilter("ignore", ConvergenceWarning)
            preds = [
                self._model(ctx.seed * 1000 + fold * 10 + k).fit(x_train, y_train).predict(x_test)
                for k in range(n_models)
            ]
        return np.clip(np.mean(preds, axis=0), 0.0, 1.0)
