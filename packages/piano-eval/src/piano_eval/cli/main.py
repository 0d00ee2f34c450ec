"""Entry point of the ``piano-eval`` command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from piano_data.errors import PianoDataError
from piano_data.progress import quiet_progress

from piano_eval.errors import UsageError

#: Subcommand modules; each has ``register(subparsers)`` which adds a parser with ``func=callable(args) -> int``.
COMMANDS: tuple[str, ...] = (
    "piano_eval.cli.data",
    "piano_eval.cli.run",
    "piano_eval.cli.compare",
    "piano_eval.cli.align",
    "piano_eval.cli.bench_align",
    "piano_eval.cli.demo",
    "piano_eval.cli.train",
    "piano_eval.cli.score",
    "piano_eval.cli.difficulty",
    "piano_eval.cli.embed",
    "piano_eval.cli.transcribe",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="piano-eval",
        description="Piano performance evaluation: how well is this pianist playing what the score asks for?",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars (drawn only on a terminal in any case)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        with quiet_progress(args.quiet):
            return int(args.func(args) or 0)
    except (PianoDataError, UsageError) as exc:
        print(f"piano-eval {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("piano-eval: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
