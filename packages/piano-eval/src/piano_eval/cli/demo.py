"""``piano-eval demo``: the main job on the embedded default corpus, ending in a comparison table."""

from __future__ import annotations

import argparse
from typing import Any

from piano_eval.cli.run import add_run_options, execute, parse_overrides, summary_line

#: (experiment id, preset overrides) run by default: quick on 2 CPU cores, no data or weights needed.
DEMO_RUNS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("baseline-features", {"model": "ridge"}),
    ("baseline-features", {"model": "mlp"}),
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the quick experiment set and print a comparison table (no data needed)",
        description="Run the quick experiment set with cross-validation (on the embedded synthetic corpus unless "
        "--data-root is given), write each results.json, and print a markdown comparison table.",
    )
    p.add_argument(
        "--experiments",
        nargs="+",
        default=None,
        metavar="ID[:KEY=VALUE,...]",
        help="experiments to run instead of the default set, e.g. baseline-features:model=ridge s1",
    )
    add_run_options(p)
    p.set_defaults(func=_demo)


def _parse(spec: str) -> tuple[str, dict[str, Any]]:
    name, _, rest = spec.partition(":")
    return name, parse_overrides([kv for kv in rest.split(",") if kv])


def _demo(args: argparse.Namespace) -> int:
    runs = [_parse(s) for s in args.experiments] if args.experiments else list(DEMO_RUNS)
    base = parse_overrides(args.overrides)
    docs = []
    for name, overrides in runs:
        doc = execute(name, args, {**base, **overrides})
        print(summary_line(doc), flush=True)
        docs.append(doc)
    from piano_eval.compare import comparison_table

    print()
    print(comparison_table(docs))
    return 0
