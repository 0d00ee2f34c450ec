"""``piano-eval train``: fit one experiment on the whole labelled dataset and save a checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from piano_eval.cli.run import add_trainer_options, add_workdir_option, parse_overrides, run_context
from piano_eval.experiments.registry import EXPERIMENTS, build_experiment
from piano_eval.workdir import work_folder


def register(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train an experiment on all labelled data and save a checkpoint for `piano-eval score`",
        description="Fit EXPERIMENT on every labelled segment (PercePiano under --data-root, or the embedded "
        "corpus) and write a checkpoint folder that `piano-eval score --checkpoint` reads.",
        epilog="experiments: " + ", ".join(sorted(EXPERIMENTS)),
    )
    p.add_argument("experiment", metavar="EXPERIMENT")
    p.add_argument("--output", type=Path, required=True, help="checkpoint folder to write")
    p.add_argument("--data-root", type=Path, default=None, help="folder holding percepiano/ (default: embedded)")
    p.add_argument("--size", choices=("quick", "full"), default="quick")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--preset", default=None, metavar="FILE")
    add_trainer_options(p)
    p.add_argument("--muq-weights", default=None)
    add_workdir_option(p)
    p.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    from piano_eval.checkpoint import train_checkpoint
    from piano_eval.datasets import load_labelled

    experiment = build_experiment(
        args.experiment, parse_overrides(args.overrides), size=args.size, preset_file=args.preset
    )
    dataset = load_labelled(args.data_root)
    with work_folder("piano-eval-train-", keep=args.keep_workdir) as workdir:
        out = train_checkpoint(experiment, dataset, run_context(args, workdir), args.output)
    print(
        json.dumps(
            {
                "experiment": experiment.id,
                "dataset": dataset.name,
                "segments": len(dataset.segments),
                "checkpoint": str(out),
            }
        )
    )
    return 0
