"""The cross-validation runner: one experiment over every fold of a split, scored in one place."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from piano_data.contracts import DIMENSIONS
from piano_data.samples import Segment, stack_labels
from piano_data.splits import Fold, make_folds

from piano_eval import metrics
from piano_eval.datasets import LabelledCorpus
from piano_eval.errors import UsageError
from piano_eval.experiments.base import Experiment, RunContext
from piano_eval.provenance import git_commit, machine
from piano_eval.results import (
    RESULTS_FORMAT,
    AugmentationMetrics,
    Compute,
    DatasetInfo,
    DimensionMetrics,
    FoldResult,
    Provenance,
    ResultsRecord,
    Robustness,
    Summary,
    save_results,
)

log = logging.getLogger(__name__)


def score_fold(fold: Fold, test: Sequence[Segment], pred: np.ndarray, wall_s: float, n_train: int) -> FoldResult:
    """All fold metrics from :mod:`piano_eval.metrics`."""
    y = stack_labels(list(test))
    if pred.shape != y.shape:
        raise ValueError(f"fold {fold.index}: predictions {pred.shape}, labels {y.shape}")
    if not np.isfinite(pred).all():
        raise ValueError(f"fold {fold.index}: predictions contain NaN or inf")
    groups = [s.group for s in test]
    keep = np.array([not s.is_deadpan for s in test])
    pw, counts = metrics.pairwise_accuracy_per_dim(y, pred, groups)
    return FoldResult(
        fold=fold.index,
        description=fold.description,
        n_train=n_train,
        n_test=len(test),
        r2=metrics.r2(y, pred),
        r2_per_dim=metrics.r2_per_dim(y, pred).tolist(),
        r2_no_deadpan=metrics.r2(y[keep], pred[keep]) if keep.sum() >= 2 and not keep.all() else None,
        pairwise_accuracy=float(np.nanmean(pw)) if np.isfinite(pw).any() else None,
        pairwise_per_dim=pw.tolist(),
        pair_counts=counts.tolist(),
        mse=metrics.mse(y, pred),
        wall_s=wall_s,
        keys=[s.key for s in test],
        predictions=np.round(pred, 6).tolist(),
        r2_within_work=_within_work(y[keep], pred[keep], [s.work for s, k in zip(test, keep, strict=True) if k]),
    )


def _within_work(y: np.ndarray, pred: np.ndarray, works: list[str]) -> float | None:
    value = metrics.r2_within_work(y, pred, works) if len(y) >= 2 else float("nan")
    return value if np.isfinite(value) else None


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if len(v) == 0:
        return None, None
    return float(v.mean()), float(v.std())


def summarize(folds: list[FoldResult]) -> Summary:
    """Means and standard deviations over ``folds``, the per-dimension means and the mean robustness."""
    r2, r2_std = _mean_std([f.r2 for f in folds])
    pw, pw_std = _mean_std([f.pairwise_accuracy for f in folds])
    nd, nd_std = _mean_std([f.r2_no_deadpan for f in folds])
    ww, ww_std = _mean_std([f.r2_within_work for f in folds])
    per_dim_r2 = np.mean([f.r2_per_dim for f in folds], axis=0)
    with np.errstate(all="ignore"):
        per_dim_pw = np.nanmean(np.array([f.pairwise_per_dim for f in folds], dtype=np.float64), axis=0)
    return Summary(
        robustness=_mean_robustness([f.robustness for f in folds if f.robustness is not None]),
        r2=r2,
        r2_std=r2_std,
        pairwise_accuracy=pw,
        pairwise_accuracy_std=pw_std,
        r2_no_deadpan=nd,
        r2_no_deadpan_std=nd_std,
        r2_within_work=ww,
        r2_within_work_std=ww_std,
        mse=float(np.mean([f.mse for f in folds if f.mse is not None])),
        per_dimension={
            d: DimensionMetrics(r2=float(a), pairwise_accuracy=None if not np.isfinite(b) else float(b))
            for d, a, b in zip(DIMENSIONS, per_dim_r2, per_dim_pw, strict=True)
        },
    )


def _mean_robustness(robust: list[Robustness]) -> Robustness | None:
    """Each robustness number averaged over the folds that measured it."""
    if not robust:
        return None
    per_aug = {}
    for name in sorted({n for r in robust for n in r.per_augmentation}):
        augs = [r.per_augmentation[name] for r in robust if name in r.per_augmentation]
        per_aug[name] = AugmentationMetrics(
            pairwise_accuracy=_mean([a.pairwise_accuracy for a in augs]),
            drop=_mean([a.drop for a in augs]),
            pearson_clean_vs_augmented=_mean([a.pearson_clean_vs_augmented for a in augs]),
        )
    return Robustness(
        pairwise_clean=_mean([r.pairwise_clean for r in robust]),
        per_augmentation=per_aug,
        mean_drop=_mean([r.mean_drop for r in robust]),
        max_drop=_mean([r.max_drop for r in robust]),
    )


def _mean(values: list[float | None]) -> float | None:
    return _mean_std(values)[0]


def run_cv(
    experiment: Experiment,
    dataset: LabelledCorpus,
    split: str,
    ctx: RunContext,
    *,
    folds: Sequence[int] | None = None,
    out_dir: Path | None = None,
    variant: str | None = None,
) -> ResultsRecord:
    """Run ``experiment`` over ``split`` and write ``results.json`` into ``out_dir`` (atomically, at the end)."""
    segments = dataset.segments
    try:
        all_folds = make_folds(segments, split, seed=ctx.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    chosen = all_folds if folds is None else [f for f in all_folds if f.index in set(folds)]
    if not chosen:
        raise UsageError(f"no fold selected; split {split!r} has folds 0..{len(all_folds) - 1}")
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    t0 = time.perf_counter()
    experiment.prepare(segments, ctx)
    prepare_s = time.perf_counter() - t0
    results: list[FoldResult] = []
    for fold in chosen:
        log.info("fold %d: %s (%d train, %d test)", fold.index, fold.description, len(fold.train), len(fold.test))
        train = [segments[i] for i in fold.train]
        test = [segments[i] for i in fold.test]
        t0 = time.perf_counter()
        pred = np.asarray(experiment.fit_predict(train, test, ctx, fold.index), dtype=np.float64)
        result = score_fold(fold, test, pred, time.perf_counter() - t0, len(train))
        augmented = _augmented_predictions(experiment, test, ctx, fold.index)
        if augmented:
            y = stack_labels(list(test))
            measured = metrics.robustness(y, pred, augmented, [s.group for s in test])
            result = replace(result, robustness=Robustness.from_metrics(measured))
        results.append(result)
    wall = time.perf_counter() - start_wall
    cpu_children = os.times().children_user + os.times().children_system
    cpu_s = time.process_time() - start_cpu + cpu_children
    record = ResultsRecord(
        format=RESULTS_FORMAT,
        experiment=experiment.id,
        variant=variant,
        group=experiment.group,
        description=experiment.description,
        config=experiment.describe(),
        size=ctx.size,
        seed=ctx.seed,
        split=split,
        dataset=DatasetInfo(
            name=dataset.name,
            root=str(dataset.root) if dataset.root else None,
            n_segments=len(segments),
            version=dataset.version,
        ),
        summary=summarize(results),
        folds=results,
        dimensions=list(DIMENSIONS),
        compute=Compute(
            wall_s=wall,
            prepare_s=prepare_s,
            cpu_s=cpu_s,
            cpu_hours=cpu_s / 3600.0,
            gpu_hours=wall / 3600.0 if _uses_gpu(ctx) else 0.0,
        ),
        provenance=Provenance(
            git_commit=git_commit(),
            machine=machine(),
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            options={k: str(v) for k, v in ctx.options.items()},
        ),
    )
    return record if out_dir is None else save_results(record, Path(out_dir) / "results.json")


def _augmented_predictions(
    experiment: Experiment, test: Sequence[Segment], ctx: RunContext, fold: int
) -> dict[str, np.ndarray]:
    """Predictions on augmented test inputs, for experiments that define ``predict_augmented`` (audio)."""
    hook = getattr(experiment, "predict_augmented", None)
    if hook is None or not ctx.option("robustness", True):
        return {}
    return {name: np.asarray(p, dtype=np.float64) for name, p in hook(test, ctx, fold).items()}


def _uses_gpu(ctx: RunContext) -> bool:
    return str(ctx.option("accelerator", "cpu")) in ("gpu", "cuda") or (
        str(ctx.option("accelerator", "cpu")) == "auto" and _cuda()
    )


def _cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:  # pragma: no cover
        return False
