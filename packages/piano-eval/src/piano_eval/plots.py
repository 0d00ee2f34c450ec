"""Figures people would rather look at than read: per-dimension R^2, predicted vs rated, fusion gates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.atomic import atomic_path
from piano_data.contracts import DIMENSIONS

from piano_eval.results import ResultsRecord, Robustness


def figure(**kwargs: Any) -> Any:
    """A ``matplotlib.figure.Figure`` on its own Agg canvas: no pyplot, no global backend switch, nothing to
    close (it is freed with the object)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path, suffix=path.suffix) as tmp:  # savefig picks the format from the extension
        fig.savefig(tmp, dpi=110)
    return path


def _label(record: ResultsRecord) -> str:
    return f"{record.label} [{record.split}]"


def per_dimension_r2(docs: Sequence[ResultsRecord], path: Path) -> Path:
    """Grouped horizontal bars: each experiment's mean R^2 per dimension."""
    n = len(docs)
    fig = figure(figsize=(9, 0.45 * len(DIMENSIONS) * max(1, n / 2) + 1))
    ax = fig.subplots()
    y = np.arange(len(DIMENSIONS))[::-1]
    height = 0.8 / max(n, 1)
    for k, doc in enumerate(docs):
        vals = [np.nan if (r2 := doc.summary.per_dimension[d].r2) is None else r2 for d in DIMENSIONS]
        ax.barh(y - k * height, vals, height=height, label=_label(doc))
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y - 0.4 + height / 2, [d.replace("_", " ") for d in DIMENSIONS], fontsize=7)
    ax.set_xlabel("R^2 (mean over folds)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, path)


def predicted_vs_rated(doc: ResultsRecord, labels: dict[str, np.ndarray], path: Path) -> Path:
    """One scatter per dimension of out-of-fold predictions against the ratings."""
    keys = [k for f in doc.folds for k in f.keys]
    pred = np.array([p for f in doc.folds for p in f.predictions])
    true = np.stack([labels[k] for k in keys])
    fig = figure(figsize=(14, 11))
    axes = fig.subplots(4, 5)
    for d, ax in enumerate(axes.flat):
        if d >= len(DIMENSIONS):
            ax.axis("off")
            continue
        ax.scatter(true[:, d], pred[:, d], s=4, alpha=0.4)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(DIMENSIONS[d].replace("_", " ")[:38], fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{_label(doc)}: predicted (y) vs rated (x)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def gate_weights(gates: np.ndarray, path: Path, title: str = "F3 gate per dimension") -> Path:
    """Mean audio gate per dimension (1 = leans on audio, 0 = on the symbolic track), with its spread."""
    g = np.asarray(gates, dtype=np.float64).reshape(-1, len(DIMENSIONS))
    fig = figure(figsize=(8, 6))
    ax = fig.subplots()
    y = np.arange(len(DIMENSIONS))[::-1]
    ax.barh(y, g.mean(axis=0), xerr=g.std(axis=0), color="tab:purple", alpha=0.8)
    ax.axvline(0.5, color="grey", ls="--", lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_yticks(y, [d.replace("_", " ") for d in DIMENSIONS], fontsize=7)
    ax.set_xlabel("gate (0 = symbolic, 1 = audio)")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def robustness_curves(doc: ResultsRecord, path: Path) -> Path:
    """Pairwise accuracy clean vs under each augmentation."""
    rob = doc.summary.robustness or Robustness()
    names = sorted(rob.per_augmentation)
    fig = figure(figsize=(7, 4))
    ax = fig.subplots()
    vals = [rob.pairwise_clean] + [rob.per_augmentation[n].pairwise_accuracy for n in names]
    vals = [np.nan if v is None else v for v in vals]
    ax.bar(["clean", *names], vals, color=["tab:green"] + ["tab:orange"] * len(names))
    ax.set_ylabel("pairwise accuracy")
    ax.set_ylim(0.4, 1.0)
    ax.set_title(f"{_label(doc)}: robustness")
    for tick in ax.get_xticklabels():
        tick.set(rotation=30, ha="right", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def beat_error_cdf(errors: dict[str, np.ndarray], path: Path, title: str = "ASAP beat error") -> Path:
    """Share of beats within each error (log scale), one line per aligner; 30/50/100 ms marked."""
    fig = figure(figsize=(7, 4))
    ax = fig.subplots()
    grid = np.logspace(0, 5, 400)  # 1 ms .. 100 s
    for name, err in errors.items():
        e = np.sort(np.abs(np.asarray(err, dtype=np.float64)) * 1000)
        ax.plot(grid, np.searchsorted(e, grid, side="right") / max(len(e), 1), label=f"{name} ({len(e)} beats)")
    for ms in (30, 50, 100):
        ax.axvline(ms, color="0.8", lw=0.8, zorder=0)
    ax.set(xscale="log", xlabel="absolute beat error (ms)", ylabel="share of beats within", title=title, ylim=(0, 1))
    ax.legend(loc="lower right")
    fig.tight_layout()
    return _save(fig, path)
