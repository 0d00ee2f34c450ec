"""``piano-eval demo``: the main job on the embedded default corpus, ending in a comparison table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from piano_eval.cli.run import add_run_options, execute, parse_overrides, summary_line
from piano_eval.cli.texts import DEMO_HELP

#: (experiment id, preset overrides) run by default: quick on 2 CPU cores, no data or weights needed.
DEMO_RUNS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("baseline-features", {"model": "ridge"}),
    ("baseline-features", {"model": "mlp"}),
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help=DEMO_HELP,
        description="Run the quick experiment set with cross-validation (on the embedded synthetic corpus unless "
        "--data-root is given), write each results.json, and print a markdown comparison table. Then score the "
        "bundled example (a short piece and a student's performance of it with a wrong, a missed and an extra "
        "note and two rushed bars, generated in code) against its score with the shipped model, print the "
        "bars that depart most, and write the HTML report to OUT/example/report.html.",
    )
    p.add_argument("--example-only", action="store_true", help="only score the bundled example (skip the experiments)")
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
    if not args.example_only:
        _experiments(args)
    return _example(args.out / "example")


def _example(folder: Path) -> int:
    """Score the bundled example and write its report; prints where the report is."""
    from piano_data.atomic import write_text_atomic

    from piano_eval.cli.score import build_report
    from piano_eval.practice import render
    from piano_eval.practice.example import write_example

    example = write_example(folder)
    report = build_report(example.performance, example.score_musicxml)
    html = write_text_atomic(folder / "report.html", render.to_html(report))
    write_text_atomic(folder / "report.json", render.to_json(report) + "\n")
    print()
    print(f"Example: {example.performance.name} scored against {example.score_musicxml.name} (the shipped model)")
    for bar in report.departing_bars():
        print(f"  bar {bar.number:>3}: {'; '.join(bar.remarks)}")
    print(f"HTML report: {html}")
    return 0


def _experiments(args: argparse.Namespace) -> None:
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
