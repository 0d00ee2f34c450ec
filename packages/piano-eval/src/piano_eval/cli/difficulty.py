"""``piano-eval difficulty``: Spearman/Kendall of predicted vs true difficulty (Mikrokosmos, PSyllabus)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from piano_data.difficulty import Target

from piano_eval.errors import UsageError

log = logging.getLogger(__name__)
MIKROKOSMOS_DIR = "mikrokosmos_difficulty"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "difficulty",
        help="difficulty correlation (Spearman, Kendall) on Mikrokosmos or PSyllabus",
        description="Embed every piece once, fit a regressor on each split's train pieces and correlate its "
        "predictions with the test pieces' difficulty. Mikrokosmos uses its 50 shipped splits; "
        "PSyllabus (your MIDI files named by piece_key) uses seeded random 80/20 splits. Prints one "
        "JSON line (spearman, spearman_std, kendall, kendall_std, n_splits, n_items, ...) and writes "
        "difficulty.json to --out.",
    )
    p.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder holding mikrokosmos_difficulty/ (or that folder itself); default: "
        "$PIANO_EVAL_DATA or shared/data beside the checkout",
    )
    p.add_argument(
        "--experiment",
        default=None,
        metavar="ID",
        help="embed with this experiment's embed(segments, ctx); default: the hand-crafted features "
        "(baseline-features)",
    )
    p.add_argument("--size", choices=("quick", "full"), default="quick", help="preset size of --experiment")
    p.add_argument(
        "--target",
        choices=("henle", "3class", "grade"),
        default=None,
        help="label to predict: henle (1-8) or 3class for Mikrokosmos (default henle), grade (0-10) "
        "for PSyllabus (its default)",
    )
    p.add_argument(
        "--model",
        choices=("ridge", "ordinal"),
        default="ridge",
        help="ridge regression or ordinal logistic (threshold models) (default: ridge)",
    )
    p.add_argument("--psyllabus-csv", type=Path, default=None, metavar="F", help="PSyllabus grades CSV")
    p.add_argument(
        "--midi-folder",
        type=Path,
        default=None,
        metavar="D",
        help="folder of MIDI files named by PSyllabus piece_key (with --psyllabus-csv)",
    )
    p.add_argument("--n-splits", type=int, default=50, help="random splits for PSyllabus (default: 50)")
    p.add_argument("--max-splits", type=int, default=None, help="use only the first N splits (quick checks)")
    p.add_argument("--qpm", type=float, default=120.0, help="fixed tempo for MusicXML scores (default: 120)")
    p.add_argument("--seed", type=int, default=0, help="seed for PSyllabus splits and the experiment")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for difficulty.json (default: results/difficulty-<experiment>-<dataset>)",
    )
    p.set_defaults(func=_difficulty)


def _mikrokosmos_root(data_root: Path | None) -> Path:
    from piano_data.paths import find_data_root

    root = data_root if data_root is not None else find_data_root()
    if root is None:
        raise UsageError("no data folder found: pass --data-root (the folder holding mikrokosmos_difficulty/)")
    if (root / "splits.json").is_file():
        return root
    if (root / MIKROKOSMOS_DIR).is_dir():
        return root / MIKROKOSMOS_DIR
    raise UsageError(f"{root}: holds no {MIKROKOSMOS_DIR}/ folder (nor is it one)")


def _dataset(args: argparse.Namespace) -> tuple[str, Target, list[Any], list[Any], Path | None]:
    """(dataset name, target, items, splits, Mikrokosmos root or None)."""
    from piano_data import difficulty as dd

    if (args.psyllabus_csv is None) != (args.midi_folder is None):
        raise UsageError("--psyllabus-csv and --midi-folder go together")
    if args.max_splits is not None and args.max_splits < 1:
        raise UsageError("--max-splits must be at least 1")
    if args.psyllabus_csv is not None:
        target: Target = args.target or "grade"
        if target != "grade":
            raise UsageError(f"PSyllabus has only the 'grade' target, not {target!r}")
        items = dd.load_psyllabus(args.psyllabus_csv, args.midi_folder)
        if len(items) < 4:
            raise UsageError(f"only {len(items)} MIDI files match a PSyllabus key; at least 4 are needed")
        splits = dd.random_splits([i.key for i in items], n_splits=args.n_splits, seed=args.seed)
        name, root = "psyllabus", None
    else:
        target = args.target or "henle"
        if target == "grade":
            raise UsageError("Mikrokosmos has the 'henle' and '3class' targets, not 'grade'")
        root = _mikrokosmos_root(args.data_root)
        items, splits, name = dd.load_mikrokosmos(root), dd.mikrokosmos_splits(root), "mikrokosmos"
    return name, target, items, splits[: args.max_splits], root


def _difficulty(args: argparse.Namespace) -> int:
    from piano_eval.difficulty import difficulty_for_experiment, evaluate_difficulty
    from piano_eval.provenance import git_commit, machine, write_json_atomic

    name, target, items, splits, root = _dataset(args)
    exp_id = args.experiment or "baseline-features"
    start = time.perf_counter()
    if exp_id == "baseline-features":
        result = evaluate_difficulty(None, items, splits, target, args.model, qpm=args.qpm)
        result["experiment"] = exp_id
    else:
        from piano_eval.experiments.base import RunContext
        from piano_eval.experiments.registry import build_experiment
        from piano_eval.workdir import work_folder

        experiment = build_experiment(exp_id, size=args.size)
        with work_folder(f"piano-eval-difficulty-{exp_id}-") as workdir:
            ctx = RunContext(workdir=workdir, seed=args.seed, size=args.size, data_root=args.data_root)
            result = difficulty_for_experiment(
                experiment, ctx, items=items, splits=splits, target=target, model=args.model, qpm=args.qpm
            )
    out_dir = args.out or Path("results") / f"difficulty-{exp_id}-{name}"
    doc = {
        "dataset": name,
        "data_path": str(root or args.midi_folder),
        **result,
        "args": {k: (None if v is None else str(v)) for k, v in vars(args).items() if k != "func"},
        "compute": {"wall_s": time.perf_counter() - start, "machine": machine()},
        "git_commit": git_commit(),
    }
    path = write_json_atomic(out_dir / "difficulty.json", doc)
    keys = (
        "dataset",
        "experiment",
        "target",
        "model",
        "spearman",
        "spearman_std",
        "kendall",
        "kendall_std",
        "accuracy",
        "n_splits",
        "n_items",
    )
    print(json.dumps({**{k: doc[k] for k in keys}, "results_path": str(path)}))
    return 0
