"""``piano-eval compare``: results files side by side, the design's group tables, winners and plots."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from piano_eval.results import ResultsRecord


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="compare results files: overview, group tables with winners, plots",
        description="Print a markdown overview of results.json files (or folders holding one), then one table "
        "per group (audio, symbolic, fusion) in the design's format with its winner: highest "
        "pairwise accuracy, R^2 breaks ties, disqualified if the robustness drop exceeds 15%%.",
    )
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS", help="results.json files or their folders")
    p.add_argument(
        "--difficulty",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="difficulty.json from `piano-eval difficulty`, merged by experiment id; repeatable",
    )
    p.add_argument("--output", type=Path, default=None, help="also write the tables to this markdown file")
    p.add_argument(
        "--plots",
        type=Path,
        default=None,
        metavar="DIR",
        help="write per-dimension R^2 bars and predicted-vs-rated scatters into DIR",
    )
    p.set_defaults(func=_compare)


def _difficulty(paths: list[Path]) -> dict[str, float]:
    from piano_data.errors import PianoDataError

    out: dict[str, float] = {}
    for path in paths:
        try:
            doc = json.loads(path.read_text())
            out[str(doc["experiment"])] = float(doc["spearman"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PianoDataError(path, f"not a difficulty results file ({exc})") from None
    return out


def _compare(args: argparse.Namespace) -> int:
    from piano_data.atomic import write_text_atomic

    from piano_eval.compare import comparison_table, load_results
    from piano_eval.selection import group_tables, rows_from_results

    docs = [load_results(p) for p in args.results]
    text = comparison_table(docs) + "\n\n" + group_tables(rows_from_results(docs, _difficulty(args.difficulty)))
    print(text)
    if args.output:
        write_text_atomic(args.output, text + "\n")
    if args.plots:
        _plots(docs, args.plots)
    return 0


def _plots(docs: list[ResultsRecord], out: Path) -> None:
    from piano_eval import plots
    from piano_eval.datasets import load_labelled

    plots.per_dimension_r2(docs, out / "per_dimension_r2.png")
    labels_cache: dict[str | None, dict[str, Any]] = {}
    for doc in docs:
        root = doc.dataset.root
        if root not in labels_cache:
            ds = load_labelled(None if root is None else Path(root).parent)
            labels_cache[root] = {s.key: s.labels for s in ds.segments}
        name = f"{doc.experiment}-{doc.split}".replace("/", "_")
        if all(k in labels_cache[root] for f in doc.folds for k in f.keys):
            plots.predicted_vs_rated(doc, labels_cache[root], out / f"scatter-{name}.png")
        if doc.summary.robustness is not None and doc.summary.robustness.per_augmentation:
            plots.robustness_curves(doc, out / f"robustness-{name}.png")
    print(f"plots written to {out}")
