"""``piano-eval compare``: results files side by side."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from piano_eval.compare import comparison_table, load_results


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="print a markdown comparison table of results files",
        description="Print a markdown table comparing results.json files (or folders holding one).",
    )
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS", help="results.json files or their folders")
    p.add_argument("--output", type=Path, default=None, help="also write the table to this markdown file")
    p.set_defaults(func=_compare)


def _compare(args: argparse.Namespace) -> int:
    from piano_eval.provenance import write_text_atomic

    table = comparison_table([load_results(p) for p in args.results])
    print(table)
    if args.output:
        write_text_atomic(args.output, table + "\n")
    return 0
