"""Difficulty correlation: how well an embedding of the score predicts a piece's difficulty.

Every item is embedded once (``embed_fn``: the items' notes -> ``[N, D]``; default: the hand-crafted
features of :func:`piano_symbolic.features.extract_features` with no score, since the score *is* the piece).
Then, for each train/test split, a regressor is fitted on the train keys and predicts the test keys. Test
embeddings are first clipped to the range each dimension spans on the train keys (unclipped, one piece's
``chord_spread`` 11 std above the rest made ridge predict Henle grade -39 for it); then:

- ``ridge``: standardised features -> ``RidgeCV`` (alpha chosen by efficient leave-one-out on the train keys);
- ``ordinal``: standardised features -> one logistic regression per threshold ``y > c`` between successive
  training labels (Frank & Hall 2001); the prediction is the expected label, the class the number of
  thresholds passed.

Per split: Spearman and Kendall between true and predicted test labels (only through
:mod:`piano_eval.metrics`) and, for the 3-class target, the share of test pieces whose rounded prediction is
the class. Reported as mean and (population) std over the splits; a split where a correlation is undefined
(constant prediction) is left out of its mean and counted in ``n_undefined``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from piano_data.difficulty import DEFAULT_QPM, DifficultyItem, Split, Target, item_notes
from piano_data.midi import NoteArray, write_notes
from piano_data.progress import progress_disabled
from piano_data.samples import Segment
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from piano_eval.errors import UsageError
from piano_eval.experiments.base import Experiment, RunContext
from piano_eval.metrics import kendall, spearman

__all__ = [
    "ClipToTrainRange",
    "EmbedFn",
    "Model",
    "difficulty_for_experiment",
    "difficulty_segments",
    "evaluate_difficulty",
    "evaluate_embeddings",
    "feature_embed",
    "load_notes",
]

Model = Literal["ridge", "ordinal"]
#: The items' notes (in item order; ``NoteArray.source`` names the file) -> embeddings ``[N, D]``.
EmbedFn = Callable[[list[NoteArray]], np.ndarray]
RIDGE_ALPHAS = np.logspace(-2, 4, 13)


def feature_embed(notes: Sequence[NoteArray]) -> np.ndarray:
    """The hand-crafted features of each piece's notes (no score deviation: the score is the piece)."""
    from piano_symbolic.features import extract_features
    from tqdm.auto import tqdm

    rows = [
        extract_features(n)
        for n in tqdm(notes, desc="features", unit="piece", leave=False, disable=progress_disabled())
    ]
    return np.stack(rows)


def load_notes(items: Sequence[DifficultyItem], qpm: float = DEFAULT_QPM) -> list[NoteArray]:
    """Each item's notes (MIDI when it has one, else its MusicXML score at ``qpm``), with a progress bar."""
    from tqdm.auto import tqdm

    return [
        item_notes(i, qpm) for i in tqdm(items, desc="scores", unit="piece", leave=False, disable=progress_disabled())
    ]


class ClipToTrainRange(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Clip every dimension to the [min, max] it spans on the data ``fit`` saw (no extrapolation)."""

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> ClipToTrainRange:
        self.low_, self.high_ = np.min(x, axis=0), np.max(x, axis=0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.low_, self.high_)


class _OrdinalLogistic:
    """Frank & Hall ordinal classifier: P(y > c) per threshold c; expected label as the prediction."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> _OrdinalLogistic:
        self.classes_ = np.unique(y)
        self.scaler_ = make_pipeline(ClipToTrainRange(), StandardScaler()).fit(x)
        xs = self.scaler_.transform(x)
        self.models_ = [
            LogisticRegression(C=1.0, max_iter=2000).fit(xs, (y > c).astype(int)) for c in self.classes_[:-1]
        ]
        return self

    def _exceed(self, x: np.ndarray) -> np.ndarray:
        xs = self.scaler_.transform(x)
        return np.stack([m.predict_proba(xs)[:, 1] for m in self.models_], axis=1)  # [N, K-1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        steps = np.diff(self.classes_).astype(np.float64)
        return self.classes_[0] + self._exceed(x) @ steps

    def predict_class(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[(self._exceed(x) > 0.5).sum(axis=1)]


def _fit(model: Model, x: np.ndarray, y: np.ndarray) -> Any:
    if model == "ridge":
        return make_pipeline(ClipToTrainRange(), StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS)).fit(x, y)
    if model == "ordinal":
        return _OrdinalLogistic().fit(x, y)
    raise UsageError(f"unknown difficulty model {model!r}; choose ridge or ordinal")


def _classes(fitted: Any, x: np.ndarray, pred: np.ndarray, train_y: np.ndarray) -> np.ndarray:
    if isinstance(fitted, _OrdinalLogistic):
        return fitted.predict_class(x)
    labels = np.unique(train_y)
    return labels[np.abs(pred[:, None] - labels[None, :]).argmin(axis=1)]


def _mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None, int]:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if len(v) == 0:
        return None, None, len(values)
    return float(v.mean()), float(v.std()), len(values) - len(v)


def evaluate_embeddings(
    x: np.ndarray,
    items: Sequence[DifficultyItem],
    splits: Sequence[Split],
    target: Target = "henle",
    model: Model = "ridge",
) -> dict[str, Any]:
    """Fit ``model`` on each split's train keys and score its test keys (see the module doc); ``x[i]`` embeds
    ``items[i]``. Returns the summary (``spearman``, ``spearman_std``, ``kendall``, ``kendall_std``,
    ``accuracy``/``accuracy_std`` for the 3-class target else ``None``, counts) and ``per_split`` rows."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(items):
        raise ValueError(f"embeddings must be [n_items={len(items)}, D], got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("embeddings hold NaN or infinite values")
    if not splits:
        raise UsageError("no train/test splits to evaluate")
    index = {item.key: i for i, item in enumerate(items)}
    try:
        y = np.asarray([item.target(target) for item in items], dtype=np.float64)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    rows = []
    for n, (train, test) in enumerate(splits):
        missing = [k for k in (*train, *test) if k not in index]
        if missing:
            raise UsageError(f"split {n}: key {missing[0]!r} is not among the {len(items)} items")
        tr, te = [index[k] for k in train], [index[k] for k in test]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant inputs: correlation undefined, handled below
            fitted = _fit(model, x[tr], y[tr])
            pred = np.asarray(fitted.predict(x[te]), dtype=np.float64)
            rho, tau = spearman(y[te], pred), kendall(y[te], pred)
        row: dict[str, Any] = {
            "split": n,
            "n_train": len(tr),
            "n_test": len(te),
            "spearman": rho,
            "kendall": tau,
        }
        if target == "3class":
            row["accuracy"] = float(np.mean(_classes(fitted, x[te], pred, y[tr]) == y[te]))
        rows.append(row)
    rho_m, rho_s, rho_bad = _mean_std([r["spearman"] for r in rows])
    tau_m, tau_s, tau_bad = _mean_std([r["kendall"] for r in rows])
    acc_m, acc_s, _ = _mean_std([r.get("accuracy") for r in rows]) if target == "3class" else (None, None, 0)
    return {
        "target": target,
        "model": model,
        "n_items": len(items),
        "n_splits": len(rows),
        "n_features": int(x.shape[1]),
        "spearman": rho_m,
        "spearman_std": rho_s,
        "kendall": tau_m,
        "kendall_std": tau_s,
        "accuracy": acc_m,
        "accuracy_std": acc_s,
        "n_undefined": max(rho_bad, tau_bad),
        "per_split": [
            {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()} for r in rows
        ],
    }


def evaluate_difficulty(
    embed_fn: EmbedFn | None,
    items: Sequence[DifficultyItem],
    splits: Sequence[Split],
    target: Target = "henle",
    model: Model = "ridge",
    qpm: float = DEFAULT_QPM,
) -> dict[str, Any]:
    """Embed every item's notes once with ``embed_fn`` (``None``: :func:`feature_embed`), then
    :func:`evaluate_embeddings`. ``qpm`` is the fixed tempo used for MusicXML scores."""
    notes = load_notes(items, qpm)
    x = np.asarray((embed_fn or feature_embed)(notes), dtype=np.float64)
    result = evaluate_embeddings(x, items, splits, target, model)
    result["qpm"] = qpm
    return result


def difficulty_segments(items: Sequence[DifficultyItem], midi_dir: Path, qpm: float = DEFAULT_QPM) -> list[Segment]:
    """Unlabelled :class:`Segment` s for the items: a MIDI item keeps its file; a MusicXML score is written as
    ``midi_dir/<source>_<key>.mid`` (its notes at ``qpm``) with :func:`piano_data.midi.write_notes`."""
    out = []
    for item in items:
        path = item.notes_path
        if path is None:
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in item.key)
            path = write_notes(item_notes(item, qpm), Path(midi_dir) / f"{item.source}_{safe}.mid")
        out.append(
            Segment(
                key=item.key,
                midi_path=Path(path),
                piece=item.key,
                segment="0",
                player="score",
                work=item.key,
                source=item.source,
                extra={"difficulty_source": item.source},
            )
        )
    return out


def difficulty_for_experiment(
    experiment: Experiment,
    ctx: RunContext,
    root: Path | None = None,
    *,
    items: Sequence[DifficultyItem] | None = None,
    splits: Sequence[Split] | None = None,
    target: Target = "henle",
    model: Model = "ridge",
    qpm: float = DEFAULT_QPM,
) -> dict[str, Any]:
    """Difficulty correlation of an experiment's own embedding: ``experiment.embed(segments, ctx) -> [N, D]``.

    ``root`` is the Mikrokosmos-difficulty folder (its items and 50 splits); or give ``items`` and ``splits``
    (PSyllabus). Scores are written as MIDI under ``ctx.workdir / "difficulty_midi"``. ``prepare`` is not
    called: ``embed`` owns whatever it needs. Raises :class:`UsageError` when the experiment has no ``embed``.
    """
    embed = getattr(experiment, "embed", None)
    if not callable(embed):
        raise UsageError(
            f"experiment {experiment.id!r} has no embed(segments, ctx) method, so it cannot be scored on "
            "difficulty; leave out --experiment for the hand-crafted features"
        )
    if items is None or splits is None:
        if root is None:
            raise UsageError("difficulty_for_experiment needs the Mikrokosmos folder or items and splits")
        from piano_data.difficulty import load_mikrokosmos, mikrokosmos_splits

        items = load_mikrokosmos(root) if items is None else items
        splits = mikrokosmos_splits(root) if splits is None else splits
    segments = difficulty_segments(items, Path(ctx.workdir) / "difficulty_midi", qpm)
    x = np.asarray(embed(segments, ctx), dtype=np.float64)
    result = evaluate_embeddings(x, items, splits, target, model)
    result.update(qpm=qpm, experiment=experiment.id)
    return result
