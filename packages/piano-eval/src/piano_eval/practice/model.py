"""Models ``piano-eval score`` can use: the shipped default (numpy, no pickle) or a ``piano-eval train`` checkpoint.

The default model is a standardise-then-ridge regression from the hand-crafted score-deviation features
(:func:`piano_symbolic.features.extract_features`) of one passage to its 19 PercePiano dimensions. It is stored
as plain arrays in ``weights.npz`` (read with ``allow_pickle=False``) beside a JSON model card, and predicts with
numpy alone, so scoring with it never imports torch or sklearn.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.atomic import atomic_path
from piano_data.contracts import DIMENSIONS
from piano_data.errors import PianoDataError, read_json

__all__ = [
    "CARD_FILE",
    "DEFAULT_MODEL_DIR",
    "WEIGHTS_FILE",
    "FeatureModel",
    "available_models",
    "load_feature_model",
    "write_npz_deterministic",
]

WEIGHTS_FILE = "weights.npz"
CARD_FILE = "model.json"
MODEL_FORMAT = "piano-eval-feature-ridge/1"
#: Arrays every feature model holds, with their shapes in terms of F features and D dimensions.
ARRAYS = {"mean": "F", "scale": "F", "coef": "F,D", "intercept": "D", "p01": "F", "p99": "F"}


def _default_dir() -> Path:
    return Path(str(resources.files("piano_eval") / "models" / "default"))


DEFAULT_MODEL_DIR = _default_dir()


@dataclass(frozen=True)
class FeatureModel:
    """Ridge regression on standardised features; ``predict`` is ``clip((x - mean) / scale @ coef + b, 0, 1)``."""

    feature_names: tuple[str, ...]
    mean: np.ndarray  # [F]
    scale: np.ndarray  # [F]
    coef: np.ndarray  # [F, D]
    intercept: np.ndarray  # [D]
    p01: np.ndarray  # [F] 1st percentile of the training features
    p99: np.ndarray  # [F] 99th percentile
    card: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def name(self) -> str:
        return str(self.card.get("name", "feature-ridge"))

    @property
    def window_bars(self) -> int:
        """Bars per window the model was trained on (PercePiano passages: mostly 8)."""
        return int(self.card.get("training", {}).get("window_bars", 8))

    @property
    def window_seconds(self) -> float:
        """Seconds per window when there is no score (median length of the training passages)."""
        return float(self.card.get("training", {}).get("window_seconds", 20.0))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``[N, 19]`` ratings in [0, 1] from ``[N, F]`` features."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] != len(self.feature_names):
            raise ValueError(f"model expects {len(self.feature_names)} features, got {x.shape[1]}")
        return np.clip((x - self.mean) / self.scale @ self.coef + self.intercept, 0.0, 1.0)

    def outside_training(self, x: np.ndarray) -> np.ndarray:
        """``[N, F]`` booleans: feature outside the training 1st-99th percentile range."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return (x < self.p01) | (x > self.p99)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
            "p01": self.p01,
            "p99": self.p99,
        }


def write_npz_deterministic(path: str | PathLike[str], arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` as an ``.npz`` whose bytes depend only on the arrays (fixed zip times, sorted names).

    ``numpy.savez`` stamps each member with the current time; this writer does not, so two builds of the same
    model are byte-identical. Written to a temporary name, then renamed into place.
    """
    out = Path(path)
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())
    return out


def load_feature_model(directory: str | PathLike[str] | None = None) -> FeatureModel:
    """Load a feature model folder (default: the one shipped in the wheel) without unpickling anything."""
    folder = DEFAULT_MODEL_DIR if directory is None else Path(directory)
    card_path, weights_path = folder / CARD_FILE, folder / WEIGHTS_FILE
    if not card_path.is_file() or not weights_path.is_file():
        raise PianoDataError(folder, f"not a feature model folder ({CARD_FILE} and {WEIGHTS_FILE} needed)")
    card = read_json(card_path)
    if card.get("format") != MODEL_FORMAT:
        raise PianoDataError(card_path, f"unsupported model format {card.get('format')!r} (expected {MODEL_FORMAT})")
    if card.get("dimensions") != list(DIMENSIONS):
        raise PianoDataError(card_path, "model was trained on other quality dimensions")
    names = tuple(card.get("feature_names", ()))
    try:
        with np.load(weights_path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k], dtype=np.float64) for k in ARRAYS}
    except KeyError as exc:
        raise PianoDataError(weights_path, f"model weights lack the array {exc}") from None
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise PianoDataError(weights_path, f"not readable model weights ({exc})") from None
    f, d = len(names), len(DIMENSIONS)
    dims = {"F": f, "D": d}
    for key, spec in ARRAYS.items():
        want = tuple(dims[s] for s in spec.split(","))
        if arrays[key].shape != want:
            raise PianoDataError(weights_path, f"array {key!r} has shape {arrays[key].shape}, expected {want}")
    if np.any(arrays["scale"] <= 0) or not all(np.all(np.isfinite(a)) for a in arrays.values()):
        raise PianoDataError(weights_path, "model weights hold non-finite values or non-positive scales")
    return FeatureModel(feature_names=names, card=card, path=folder, **arrays)


def _installed_feature_names() -> tuple[str, ...]:
    from piano_symbolic.features import FEATURE_NAMES

    return tuple(FEATURE_NAMES)


def check_features_match(model: FeatureModel, names: Sequence[str] | None = None) -> None:
    """Raise when the installed feature extractor no longer computes the features the model was trained on."""
    current = tuple(names) if names is not None else _installed_feature_names()
    if current != model.feature_names:
        raise PianoDataError(
            model.path,
            f"model was trained on {len(model.feature_names)} features that differ from the installed "
            f"extractor's {len(current)} (rebuild it: nox -s default_model)",
        )


def available_models() -> list[dict[str, Any]]:
    """The models ``piano-eval score`` can use without ``--checkpoint`` (today: the shipped default)."""
    out = []
    try:
        model = load_feature_model(None)
    except PianoDataError as exc:
        return [{"name": "default", "path": str(DEFAULT_MODEL_DIR), "error": str(exc)}]
    card = model.card
    out.append(
        {
            "name": "default",
            "path": str(DEFAULT_MODEL_DIR),
            "kind": card.get("kind"),
            "training": card.get("training", {}),
            "metrics": card.get("metrics", {}),
            "feature_version": card.get("feature_version"),
            "commit": card.get("commit"),
        }
    )
    return out
