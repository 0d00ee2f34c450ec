"""``piano-eval run``: one experiment over every fold of a split, results written as JSON."""

from __future__ import annotations

import argparse
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from piano_data.splits import SPLITS

from piano_eval.errors import UsageError
from piano_eval.experiments.registry import EXPERIMENTS, build_experiment
from piano_eval.workdir import work_folder

if TYPE_CHECKING:
    from piano_eval.experiments.base import RunContext
    from piano_eval.results import ResultsRecord

log = logging.getLogger(__name__)


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``run`` and ``demo``."""
    p.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder holding dataset folders named as upstream (percepiano/, asap/, ...); "
        "default: the embedded synthetic corpus, no download needed",
    )
    p.add_argument("--split", default="piece4", help=f"split strategy: {', '.join(SPLITS)} (default: piece4)")
    p.add_argument(
        "--size",
        choices=("quick", "full"),
        default="quick",
        help="quick: finishes on 2 CPU cores; full: the real size, for a GPU",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for splits, initialisation and sampling")
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: ./results)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a preset key (YAML value), e.g. --set model=ridge; repeatable",
    )
    p.add_argument(
        "--folds",
        type=lambda s: [int(x) for x in s.split(",")],
        default=None,
        help="run only these folds, e.g. 0,1",
    )
    add_trainer_options(p)
    p.add_argument(
        "--soundfonts",
        type=lambda s: [x for x in s.split(",") if x],
        default=None,
        metavar="SF1,SF2",
        help="render every segment with these soundfonts first (timgm6mb, additive_piano need no system "
        "package; fluidr3, musescore_lite, NAME+fluidsynth when installed); needed by --split soundfont",
    )
    p.add_argument(
        "--robustness",
        action="store_true",
        help="audio experiments a1-a3: also predict augmented copies of each test fold (room IR, noise, "
        "phone, pitch shift, EQ) and record the robustness drop used by the winner veto",
    )
    p.add_argument(
        "--preset",
        default=None,
        metavar="FILE",
        help="a preset YAML file to use instead of the shipped one (same keys)",
    )
    p.add_argument("--muq-weights", default=None, help="local folder or hub id of real MuQ weights (audio experiments)")
    add_workdir_option(p)


def add_trainer_options(p: argparse.ArgumentParser) -> None:
    """Where and how Lightning trains (shared by ``run``, ``demo`` and ``train``); configuration only."""
    p.add_argument("--accelerator", default="cpu", help="Lightning accelerator: cpu, gpu, auto (default: cpu)")
    p.add_argument("--devices", default="1", help="Lightning devices per node (number or 'auto')")
    p.add_argument("--num-nodes", type=int, default=1, help="Lightning nodes (machines) to train on (default: 1)")
    p.add_argument(
        "--strategy", default="auto", help="Lightning strategy, e.g. ddp for several devices or nodes (default: auto)"
    )
    p.add_argument("--precision", default=None, help="Lightning precision, e.g. bf16-mixed")


def add_workdir_option(p: argparse.ArgumentParser) -> None:
    """``--keep-workdir``: keep the temporary training folder (Lightning logs and checkpoints)."""
    p.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the temporary work folder (Lightning logs and checkpoints; removed by default) and log its path",
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run one experiment with cross-validation and write results.json",
        description="Run one experiment over every fold of a split. Prints one JSON line at the end with "
        "experiment, split, r2, r2_std, pairwise_accuracy and results_path.",
        epilog="experiments: " + ", ".join(sorted(EXPERIMENTS)),
    )
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment id, e.g. baseline-features")
    add_run_options(p)
    p.set_defaults(func=_run)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def run_context(args: argparse.Namespace, workdir: Path) -> RunContext:
    """The :class:`RunContext` of a ``run`` or ``train`` command: seed, size, data root and the Lightning/MuQ
    options from its arguments, working in ``workdir``."""
    from piano_eval.experiments.base import RunContext

    options = {
        "accelerator": args.accelerator,
        "devices": args.devices,
        "num_nodes": args.num_nodes,
        "strategy": args.strategy,
        "precision": args.precision,
        "muq_weights": args.muq_weights,
    }
    return RunContext(workdir=workdir, seed=args.seed, size=args.size, data_root=args.data_root, options=options)


def execute(name: str, args: argparse.Namespace, overrides: dict[str, Any] | None = None) -> ResultsRecord:
    """Validate everything cheap first, then run; returns the results document."""
    from piano_eval.datasets import load_labelled
    from piano_eval.runner import run_cv

    if args.split not in SPLITS:
        raise UsageError(f"unknown split {args.split!r}; choose one of: {', '.join(SPLITS)}")
    experiment = build_experiment(name, overrides, size=args.size, preset_file=getattr(args, "preset", None))
    if args.split == "soundfont" and not getattr(args, "soundfonts", None):
        raise UsageError(
            "--split soundfont needs --soundfonts with at least two soundfonts, e.g. timgm6mb,additive_piano"
        )
    dataset = load_labelled(args.data_root, getattr(args, "soundfonts", None))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = args.out / f"{name}-{args.split}-{dataset.name}-{stamp}"
    log.info("running %s on %s, split %s", name, dataset.description, args.split)
    if getattr(args, "robustness", False):
        from piano_eval.robustness import with_robustness

        experiment = with_robustness(experiment, seed=args.seed)
    variant = ",".join(f"{k}={v}" for k, v in (overrides or {}).items()) or None
    with work_folder(f"piano-eval-{name}-", keep=getattr(args, "keep_workdir", False)) as workdir:
        ctx = run_context(args, workdir)
        return run_cv(experiment, dataset, args.split, ctx, folds=args.folds, out_dir=out_dir, variant=variant)


def summary_line(doc: ResultsRecord) -> str:
    """The one JSON line ``run`` prints: the headline numbers and where the results file is."""
    s = doc.summary
    return json.dumps(
        {
            "experiment": doc.experiment,
            "split": doc.split,
            "dataset": doc.dataset.name,
            "r2": s.r2,
            "r2_std": s.r2_std,
            "r2_no_deadpan": s.r2_no_deadpan,
            "r2_within_work": s.r2_within_work,
            "pairwise_accuracy": s.pairwise_accuracy,
            "wall_s": round(doc.compute.wall_s, 2),
            "results_path": doc.results_path,
        }
    )


def _run(args: argparse.Namespace) -> int:
    doc = execute(args.experiment, args, parse_overrides(args.overrides))
    print(summary_line(doc))
    return 0
