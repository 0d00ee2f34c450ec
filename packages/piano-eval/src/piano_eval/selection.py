"""Comparison tables in the design's format, per experiment group, and the winner-selection rule.

Rule: the highest same-passage pairwise accuracy wins; R^2 breaks ties (pairwise equal to 3 decimals);
an experiment whose robustness drop (mean relative drop of pairwise accuracy over the augmentations,
``summary.robustness.mean_drop``) exceeds 15% is disqualified. Experiments without a robustness measurement
(symbolic ones, which take no audio) are not vetoed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from piano_eval.compare import fmt
from piano_eval.results import ResultsRecord

__all__ = ["GROUP_OF", "ROBUSTNESS_VETO", "Row", "group_tables", "rows_from_results", "select_winner"]

ROBUSTNESS_VETO = 0.15
#: Which comparison table each experiment group appears in (baselines join the table they are a baseline for).
GROUP_OF = {"baseline-features": "symbolic", "baseline-paper": "audio", "baseline-ranker": "audio"}


@dataclass(frozen=True)
class Row:
    experiment: str
    table: str
    split: str
    r2: float | None
    r2_std: float | None
    pairwise: float | None
    difficulty_rho: float | None
    robustness_drop: float | None
    gpu_hours: float
    cpu_hours: float
    note: str = ""
    r2_within_work: float | None = None

    @property
    def vetoed(self) -> bool:
        return self.robustness_drop is not None and self.robustness_drop > ROBUSTNESS_VETO


def rows_from_results(docs: Sequence[ResultsRecord], difficulty: dict[str, float] | None = None) -> list[Row]:
    """One :class:`Row` per results document; ``difficulty`` maps experiment ids to a difficulty Spearman rho
    (from ``piano-eval difficulty``)."""
    return [
        Row(
            experiment=r.label,
            table=GROUP_OF.get(r.experiment, r.group),
            split=r.split,
            r2=r.summary.r2,
            r2_std=r.summary.r2_std,
            pairwise=r.summary.pairwise_accuracy,
            difficulty_rho=(difficulty or {}).get(r.experiment),
            robustness_drop=r.robustness_drop,
            gpu_hours=r.compute.gpu_hours,
            cpu_hours=r.compute.cpu_hours,
            r2_within_work=r.summary.r2_within_work,
            note=" (tiny MuQ)" if r.tiny_muq else "",
        )
        for r in docs
    ]


def select_winner(rows: Sequence[Row]) -> Row | None:
    """Highest pairwise accuracy among non-vetoed rows; R^2 breaks ties."""
    eligible = [r for r in rows if not r.vetoed and r.pairwise is not None]
    if not eligible:
        return None
    return max(eligible, key=lambda r: (round(r.pairwise or 0.0, 3), r.r2 if r.r2 is not None else float("-inf")))


def _robust_cell(row: Row) -> str:
    if row.robustness_drop is None:
        return "n/a"
    return f"-{100 * row.robustness_drop:.1f}%" + (" (veto)" if row.vetoed else "")


def group_tables(rows: Sequence[Row]) -> str:
    """One markdown table per (group, split), each followed by its winner."""
    out = []
    keys = sorted(
        {(r.table, r.split) for r in rows},
        key=lambda k: (
            ["audio", "symbolic", "fusion"].index(k[0]) if k[0] in ("audio", "symbolic", "fusion") else 9,
            k,
        ),
    )
    for table, split in keys:
        members = [r for r in rows if (r.table, r.split) == (table, split)]
        out.append(f"### {table.capitalize()} experiments ({split} split)\n")
        out.append(
            "| Experiment | R^2 | R^2 within work | Pairwise | Difficulty rho | Robustness | GPU-hours | CPU-hours |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        for r in sorted(members, key=lambda r: -(r.pairwise or 0.0)):
            out.append(
                f"| {r.experiment}{r.note} | {fmt(r.r2, r.r2_std)} | {fmt(r.r2_within_work)} | {fmt(r.pairwise)} "
                f"| {fmt(r.difficulty_rho)} "
                f"| {_robust_cell(r)} | {r.gpu_hours:.3f} | {r.cpu_hours:.3f} |"
            )
        winner = select_winner(members)
        vetoed = [r.experiment for r in members if r.vetoed]
        line = f"\n**Winner ({table}, {split}):** " + (
            f"{winner.experiment} (pairwise {fmt(winner.pairwise)}, R^2 {fmt(winner.r2)})" if winner else "none"
        )
        if vetoed:
            line += f"; disqualified by the robustness veto (> {ROBUSTNESS_VETO:.0%} drop): {', '.join(vetoed)}"
        out.append(line + "\n")
    return "\n".join(out)
