"""Read results files and put them side by side as markdown tables."""

from __future__ import annotations

from collections.abc import Sequence

from piano_eval.results import ResultsRecord, load_results

__all__ = ["comparison_table", "fmt", "load_results"]


def fmt(mean: float | None, std: float | None = None, digits: int = 3) -> str:
    if mean is None:
        return "n/a"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def comparison_table(results: Sequence[ResultsRecord]) -> str:
    """One markdown row per results file: R^2 (with and without the deadpan renditions), R^2 within each work
    (deadpan left out), pairwise, compute."""
    head = (
        "| Experiment | Split | Data | Folds | R^2 | R^2 w/o deadpan | R^2 within work | Pairwise | CPU-hours "
        "| GPU-hours |"
    )
    rows = [head, "|---" * (head.count("|") - 1) + "|"]
    for r in results:
        s = r.summary
        rows.append(
            f"| {r.label} | {r.split} | {r.dataset.name} | {len(r.folds)} "
            f"| {fmt(s.r2, s.r2_std)} | {fmt(s.r2_no_deadpan, s.r2_no_deadpan_std)} "
            f"| {fmt(s.r2_within_work, s.r2_within_work_std)} "
            f"| {fmt(s.pairwise_accuracy, s.pairwise_accuracy_std)} "
            f"| {r.compute.cpu_hours:.3f} | {r.compute.gpu_hours:.3f} |"
        )
    return "\n".join(rows)
