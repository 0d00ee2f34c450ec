"""Read results files and put them side by side as markdown tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from piano_data.errors import PianoDataError

from piano_eval.runner import RESULTS_FORMAT

__all__ = ["comparison_table", "fmt", "load_results"]


def load_results(path: str | PathLike[str]) -> dict[str, Any]:
    """Load one ``results.json`` (or the ``results.json`` inside a results folder), validated."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise PianoDataError(p, "results file not found")
    try:
        doc = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PianoDataError(p, f"not a valid results file ({exc})") from None
    for key in ("experiment", "split", "summary", "dataset"):
        if key not in doc:
            raise PianoDataError(p, f"not a piano-eval results file (no {key!r})")
    if doc.get("format") != RESULTS_FORMAT:
        raise PianoDataError(p, f"results format {doc.get('format')} is not {RESULTS_FORMAT}")
    doc.setdefault("results_path", str(p))
    return doc


def fmt(mean: float | None, std: float | None = None, digits: int = 3) -> str:
    if mean is None:
        return "n/a"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def comparison_table(results: Sequence[dict[str, Any]]) -> str:
    """One markdown row per results file: R^2 (with and without the deadpan renditions), R^2 within each work
    (deadpan left out), pairwise, compute."""
    head = (
        "| Experiment | Split | Data | Folds | R^2 | R^2 w/o deadpan | R^2 within work | Pairwise | CPU-hours "
        "| GPU-hours |"
    )
    rows = [head, "|---" * (head.count("|") - 1) + "|"]
    for doc in results:
        s, c = doc["summary"], doc.get("compute", {})
        label = doc["experiment"] + (f" ({doc['variant']})" if doc.get("variant") else "")
        rows.append(
            f"| {label} | {doc['split']} | {doc['dataset']['name']} | {len(doc.get('folds', []))} "
            f"| {fmt(s.get('r2'), s.get('r2_std'))} | {fmt(s.get('r2_no_deadpan'), s.get('r2_no_deadpan_std'))} "
            f"| {fmt(s.get('r2_within_work'), s.get('r2_within_work_std'))} "
            f"| {fmt(s.get('pairwise_accuracy'), s.get('pairwise_accuracy_std'))} "
            f"| {c.get('cpu_hours', 0.0):.3f} | {c.get('gpu_hours', 0.0):.3f} |"
        )
    return "\n".join(rows)
