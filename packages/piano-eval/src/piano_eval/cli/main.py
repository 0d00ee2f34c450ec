"""Entry point of the ``piano-eval`` command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from piano_data.errors import PianoDataError
from piano_data.progress import quiet_progress

from piano_eval.cli.texts import DEMO_HELP, MODELS_HELP, SCORE_HELP
from piano_eval.errors import UsageError

#: command name -> (module with ``register(subparsers)`` adding a parser with ``func=callable(args) -> int``,
#: one-line help shown by ``piano-eval --help``). A test checks each help line against the module's own.
COMMAND_TABLE: dict[str, tuple[str, str]] = {
    "data": ("piano_eval.cli.data", "inspect datasets"),
    "run": ("piano_eval.cli.run", "run one experiment with cross-validation and write results.json"),
    "compare": ("piano_eval.cli.compare", "compare results files: overview, group tables with winners, plots"),
    "align": (
        "piano_eval.cli.align",
        "align a performance (MIDI or audio) to its score MIDI: a score->performance time map",
    ),
    "demo": ("piano_eval.cli.demo", DEMO_HELP),
    "train": (
        "piano_eval.cli.train",
        "train an experiment on all labelled data and save a checkpoint for `piano-eval score`",
    ),
    "score": ("piano_eval.cli.score", SCORE_HELP),
    "models": ("piano_eval.cli.models", MODELS_HELP),
    "difficulty": (
        "piano_eval.cli.difficulty",
        "difficulty correlation (Spearman, Kendall) on Mikrokosmos or PSyllabus",
    ),
    "embed": ("piano_eval.cli.embed", "extract frozen MuQ features into the embedding cache (resumable)"),
    "transcribe": ("piano_eval.cli.transcribe", "transcribe piano audio to MIDI (transkun)"),
}
#: Subcommand modules, in ``--help`` order.
COMMANDS: tuple[str, ...] = tuple(module for module, _ in COMMAND_TABLE.values())


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first argument that is not a top-level option), if any."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMAND_TABLE else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``only``, just that command's module is imported and the rest are help stubs.

    Start-up stays light either way: command modules import their heavy dependencies (torch, sklearn, numba)
    inside the functions that run the command.
    """
    parser = argparse.ArgumentParser(
        prog="piano-eval",
        description="Piano performance evaluation: how well is this pianist playing what the score asks for?",
        epilog="exit codes: 0 ok; 2 bad input or usage (one line on stderr: piano-eval COMMAND: error: ...); "
        "3 a result with a warning (see the command's --help); 130 interrupted",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars (drawn only on a terminal in any case)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_line) in COMMAND_TABLE.items():
        if only is None or name == only:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = _chosen_command(argv)
    parser = build_parser(only=chosen) if chosen is not None else build_parser(only="")
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
