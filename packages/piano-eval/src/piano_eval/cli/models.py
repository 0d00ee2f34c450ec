"""``piano-eval models``: the models ``piano-eval score`` can use without ``--checkpoint``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from piano_eval.cli.texts import MODELS_HELP


def register(sub: Any) -> None:
    p = sub.add_parser(
        "models",
        help=MODELS_HELP,
        description="List the models shipped with piano-eval (today: the default feature model) with their model "
        "cards: training data, feature version, cross-validated numbers, commit. `piano-eval score "
        "--checkpoint DIR` uses a checkpoint from `piano-eval train` instead.",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_models)


def _models(args: argparse.Namespace) -> int:
    from piano_eval.practice.model import available_models

    models = available_models()
    if args.format == "json":
        print(json.dumps(models, indent=2))
        return 0
    for m in models:
        if "error" in m:
            print(f"{m['name']}: unusable ({m['error']})")
            continue
        t, s = m.get("training", {}), m.get("metrics", {})
        print(f"{m['name']}  (used when --checkpoint is not given)")
        print(f"  path: {m['path']}")
        print(f"  kind: {m.get('kind')}")
        print(f"  trained on: {t.get('data')} ({t.get('n_segments')} passages, {t.get('n_works')} works)")
        print(f"  windows: {t.get('window_bars')} bars, or {t.get('window_seconds')} s without a score")
        print(f"  features: version {m.get('feature_version')}")
        print(
            f"  cross-validated ({s.get('cv')}): R^2 {s.get('r2')} (+/- {s.get('r2_fold_std')}), without deadpan "
            f"{s.get('r2_no_deadpan')}, pairwise accuracy {s.get('pairwise_accuracy')}, within-work Spearman "
            f"{s.get('within_work_spearman')}, R^2 with the work held out {s.get('r2_work_held_out')}"
        )
        print(f"  commit: {m.get('commit')}")
    return 0
