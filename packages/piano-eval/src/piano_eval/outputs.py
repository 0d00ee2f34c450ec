"""What a notebook (or a script) writes beside its figures: tables as markdown and CSV, training curves.

Training curves come from the recipe's CSV logs (``<workdir>/**/csv/<name>/metrics.csv``): every
:func:`piano_eval.training.fit_module` call writes Lightning's ``CSVLogger`` file under its workdir, so the
runner's ``RunContext.workdir`` holds one log per pretraining stage and per fold.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from piano_data.atomic import write_text_atomic
from piano_data.contracts import DIMENSIONS

from piano_eval.results import ResultsRecord, load_results

__all__ = [
    "comparison_rows",
    "matching_results",
    "per_dimension_rows",
    "plot_training_curves",
    "training_logs",
    "write_csv",
    "write_markdown",
]


def write_markdown(text: str, path: Path) -> Path:
    """``text`` (markdown) written atomically to ``path``."""
    out = write_text_atomic(Path(path), text.rstrip() + "\n")
    out.chmod(0o644)
    return out


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Rows (dicts with the same keys) as a CSV file, written atomically."""
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    out = write_text_atomic(Path(path), buf.getvalue())
    out.chmod(0o644)
    return out


def matching_results(
    path: Path, dataset_version: str, size: str, split: str, folds: Sequence[int] | None
) -> ResultsRecord | None:
    """The results document at ``path`` (a file or its folder) when it was run on the same dataset version,
    size, split and folds (``None``: every fold), else ``None``: a later notebook reuses an earlier one's run.
    """
    from piano_data.errors import PianoDataError

    try:
        doc = load_results(path)
    except PianoDataError:
        return None
    same = (
        doc.dataset.version == dataset_version
        and doc.size == size
        and doc.split == split
        and (folds is None or sorted(f.fold for f in doc.folds) == sorted(folds))
    )
    return doc if same else None


def per_dimension_rows(docs: Sequence[ResultsRecord]) -> list[dict[str, Any]]:
    """One row per (experiment, dimension): mean R^2 and pairwise accuracy over the folds run."""
    return [
        {
            "experiment": doc.label,
            "split": doc.split,
            "dimension": d,
            "r2": doc.summary.per_dimension[d].r2,
            "pairwise_accuracy": doc.summary.per_dimension[d].pairwise_accuracy,
        }
        for doc in docs
        for d in DIMENSIONS
    ]


def comparison_rows(docs: Sequence[ResultsRecord]) -> list[dict[str, Any]]:
    """The rows of :func:`piano_eval.selection.group_tables` as dicts (with ``vetoed``), for a CSV file."""
    from piano_eval.selection import rows_from_results

    return [{**asdict(r), "vetoed": r.vetoed} for r in rows_from_results(docs)]


#: epoch-level series shown by :func:`plot_training_curves` (whichever a log has)
CURVES = ("train_loss", "val_loss", "val_r2", "val_pairwise")


def training_logs(workdir: Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """``{run name: {metric: [(epoch, value), ...]}}`` for every ``metrics.csv`` under ``workdir``.

    The run name is the folder the log sits in relative to ``workdir`` (e.g. ``a1-fold0``). Rows without an
    epoch or a value are skipped; a metric logged several times in one epoch keeps the last value.
    """
    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for path in sorted(Path(workdir).rglob("metrics.csv")):
        rel = path.relative_to(workdir).parts
        name = rel[0] if rel else path.parent.name
        series: dict[str, dict[int, float]] = {}
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                if not row.get("epoch"):
                    continue
                epoch = int(float(row["epoch"]))
                for key, value in row.items():
                    if key in ("epoch", "step") or key.startswith("lr-") or not value:
                        continue
                    v = float(value)
                    if math.isfinite(v):
                        series.setdefault(key, {})[epoch] = v
        if series:
            out[name] = {k: sorted(v.items()) for k, v in series.items()}
    return out


def plot_training_curves(workdir: Path, path: Path, title: str = "training curves") -> Path | None:
    """One panel per metric of :data:`CURVES`, one line per run (fold, stage); ``None`` without any log."""
    from piano_eval.plots import _save, figure

    logs = training_logs(workdir)
    metrics = [m for m in CURVES if any(m in s for s in logs.values())]
    if not metrics:
        return None
    fig = figure(figsize=(4 * len(metrics), 3.4))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for name, series in logs.items():
            if metric in series:
                xs, ys = zip(*series[metric], strict=True)
                ax.plot(xs, ys, marker="o", ms=3, label=name)
        values = [y for s in logs.values() for _, y in s.get(metric, [])]
        if metric.endswith("_loss") and min(values) > 0 and max(values) > 20 * min(values):
            ax.set_yscale("log")  # pretraining and fine-tuning losses differ by orders of magnitude
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel("epoch")
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def notebook_context(data_root: str | None, size: str, prefix: str, muq_weights: str | None = None) -> tuple[Any, Any]:
    """The dataset and :class:`RunContext` a notebook runs with, as ``piano-eval run`` would build them.

    ``data_root``: ``"auto"`` (:func:`piano_data.paths.find_data_root`), ``"synthetic"`` (the embedded corpus)
    or a folder. Quick size stays on the CPU; full size lets Lightning pick the accelerator.
    """
    from piano_data.paths import find_data_root

    from piano_eval.datasets import load_labelled
    from piano_eval.experiments.base import RunContext
    from piano_eval.workdir import session_work_folder

    root = {"auto": find_data_root(), "synthetic": None}.get(str(data_root), data_root)
    root_path = Path(root) if root else None
    dataset = load_labelled(root_path)
    options = {"muq_weights": muq_weights, "accelerator": "cpu" if size == "quick" else "auto", "devices": 1}
    workdir = session_work_folder(f"{prefix}-nb-")  # removed when the notebook's process exits
    ctx = RunContext(workdir=workdir, seed=0, size=size, data_root=root_path, options=options)  # type: ignore[arg-type]
    return dataset, ctx


def experiment_report(doc: ResultsRecord, dataset: Any, workdir: Path, out: Path, title: str) -> list[Path]:
    """``summary.md``, ``per_dimension.csv`` and the figures of one results document (per-dimension R^2,
    out-of-fold predictions against the ratings, training curves of every fold); returns the figures."""
    from piano_eval import plots
    from piano_eval.compare import comparison_table

    write_markdown(comparison_table([doc]), out / "summary.md")
    write_csv(per_dimension_rows([doc]), out / "per_dimension.csv")
    labels = {s.key: s.labels for s in dataset.segments}
    figures = [
        plots.per_dimension_r2([doc], out / "per_dimension_r2.png"),
        plots.predicted_vs_rated(doc, labels, out / "predicted_vs_rated.png"),
        plot_training_curves(workdir, out / "training_curves.png", f"{title}: training curves"),
    ]
    return [f for f in figures if f is not None]


def reuse_or_run(
    experiment_id: str,
    earlier: Path | None,
    dataset: Any,
    ctx: Any,
    split: str,
    folds: Sequence[int] | None,
    out: Path,
    overrides: dict[str, Any] | None = None,
) -> ResultsRecord:
    """The results in ``earlier/<experiment_id>`` when they match this run (dataset version, size, split,
    folds), else a fresh :func:`piano_eval.runner.run_cv` written to ``out/<experiment_id>``."""
    from piano_eval.experiments.registry import build_experiment
    from piano_eval.runner import run_cv

    if earlier is not None:
        doc = matching_results(earlier / experiment_id, dataset.version, ctx.size, split, folds)
        if doc is not None:
            print(f"{experiment_id}: reusing {doc.results_path}")
            return doc
    experiment = build_experiment(experiment_id, overrides, size=ctx.size)
    return run_cv(experiment, dataset, split, ctx, folds=folds, out_dir=out / experiment_id)
