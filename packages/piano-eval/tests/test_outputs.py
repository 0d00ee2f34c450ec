"""piano_eval.outputs: training logs and curves, CSV/markdown tables, reuse of matching results files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from piano_data.contracts import DIMENSIONS
from piano_eval.outputs import (
    comparison_rows,
    matching_results,
    per_dimension_rows,
    plot_training_curves,
    training_logs,
    write_csv,
    write_markdown,
)
from piano_eval.provenance import write_json_atomic
from piano_eval.results import RESULTS_FORMAT, ResultsRecord

LOG = """epoch,lr-AdamW,step,train_loss,val_loss,val_r2
,0.001,4,,,
0,,4,,0.5,-1.0
0,,4,0.9,,
1,,9,,0.25,0.1
1,,9,0.4,,
"""


def _doc(version: str = "v1", folds: tuple[int, ...] = (0,), size: str = "quick") -> dict:
    per_dim = {d: {"r2": 0.1 * i, "pairwise_accuracy": 0.6} for i, d in enumerate(DIMENSIONS)}
    return {
        "format": RESULTS_FORMAT, "experiment": "s1", "variant": None, "group": "symbolic", "split": "piece4",
        "size": size, "dataset": {"name": "synthetic", "version": version},
        "summary": {"r2": 0.2, "r2_std": 0.0, "pairwise_accuracy": 0.6, "per_dimension": per_dim},
        "folds": [{"fold": f} for f in folds], "compute": {"cpu_hours": 0.01, "gpu_hours": 0.0}, "config": {},
    }  # fmt: skip


def test_training_logs_and_curves(tmp_path: Path) -> None:
    log = tmp_path / "s1-fold0" / "csv" / "fold0" / "metrics.csv"
    log.parent.mkdir(parents=True)
    log.write_text(LOG)
    logs = training_logs(tmp_path)
    assert logs == {"s1-fold0": {"val_loss": [(0, 0.5), (1, 0.25)], "val_r2": [(0, -1.0), (1, 0.1)],
                                 "train_loss": [(0, 0.9), (1, 0.4)]}}  # fmt: skip
    png = plot_training_curves(tmp_path, tmp_path / "curves.png")
    assert png is not None and png.read_bytes()[:4] == b"\x89PNG"
    assert plot_training_curves(tmp_path / "empty", tmp_path / "none.png") is None


def test_tables(tmp_path: Path) -> None:
    rows = per_dimension_rows([ResultsRecord.from_json(_doc())])
    assert len(rows) == len(DIMENSIONS) and rows[1]["r2"] == 0.1
    path = write_csv(rows, tmp_path / "t" / "per_dim.csv")
    with path.open() as fh:
        back = list(csv.DictReader(fh))
    assert back[0]["dimension"] == DIMENSIONS[0] and np.isclose(float(back[1]["r2"]), 0.1)
    (row,) = comparison_rows([ResultsRecord.from_json(_doc())])
    assert row["experiment"] == "s1" and row["vetoed"] is False
    assert write_markdown("| a |", tmp_path / "t.md").read_text() == "| a |\n"


def test_matching_results(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "s1" / "results.json", _doc())
    assert matching_results(tmp_path / "s1", "v1", "quick", "piece4", [0]) is not None
    assert matching_results(tmp_path / "s1", "v2", "quick", "piece4", [0]) is None  # other data
    assert matching_results(tmp_path / "s1", "v1", "full", "piece4", [0]) is None  # other size
    assert matching_results(tmp_path / "s1", "v1", "quick", "piece4", [0, 1]) is None  # other folds
    assert matching_results(tmp_path / "missing", "v1", "quick", "piece4", None) is None


def test_notebook_context_and_report(tmp_path: Path) -> None:
    from piano_eval.experiments.registry import build_experiment
    from piano_eval.outputs import experiment_report, notebook_context
    from piano_eval.runner import run_cv

    dataset, ctx = notebook_context("synthetic", "quick", "t")
    assert dataset.name == "synthetic" and ctx.size == "quick" and ctx.option("accelerator") == "cpu"
    doc = run_cv(build_experiment("baseline-features", {"model": "ridge"}), dataset, "piece4", ctx, folds=[0])
    figures = experiment_report(doc, dataset, ctx.workdir, tmp_path, "ridge")
    assert (tmp_path / "summary.md").is_file() and (tmp_path / "per_dimension.csv").is_file()
    assert {f.name for f in figures} >= {"per_dimension_r2.png", "predicted_vs_rated.png"}


def test_reuse_or_run_reuses_matching_results(tmp_path: Path) -> None:
    from piano_eval.outputs import notebook_context, reuse_or_run

    dataset, ctx = notebook_context("synthetic", "quick", "t")
    first = reuse_or_run("baseline-features", None, dataset, ctx, "piece4", [0], tmp_path / "a", {"model": "ridge"})
    again = reuse_or_run("baseline-features", tmp_path / "a", dataset, ctx, "piece4", [0], tmp_path / "b")
    assert again.results_path == first.results_path
    assert not (tmp_path / "b").exists()
