"""``piano-eval data summary``: what the data root holds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    data = sub.add_parser("data", help="inspect datasets", description="Inspect the datasets under a data root.")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    summary = dsub.add_parser(
        "summary",
        help="count segments, groups, works and pairs of every dataset found",
        description="Summarise every dataset folder under --data-root (percepiano/, asap/, ...). Prints JSON.",
    )
    summary.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder holding dataset folders (default: the embedded synthetic corpus)",
    )
    summary.add_argument("--format", choices=("json", "text"), default="json", help="output format")
    summary.set_defaults(func=_summary)


def _summary(args: argparse.Namespace) -> int:
    if args.data_root is None:
        from piano_eval.datasets import load_labelled

        ds = load_labelled(None)
        info: dict[str, Any] = {"synthetic": {"segments": len(ds.segments), "version": ds.version}}
    else:
        from piano_data.summary import summarize

        info = summarize(args.data_root)
    if args.format == "json":
        print(json.dumps(info, indent=2))
    else:
        print(_text(info))
    return 0


def _text(info: dict[str, Any], indent: int = 0) -> str:
    lines = []
    for key, value in info.items():
        if isinstance(value, dict):
            lines.append(" " * indent + f"{key}:")
            lines.append(_text(value, indent + 2))
        else:
            lines.append(" " * indent + f"{key}: {value}")
    return "\n".join(lines)
