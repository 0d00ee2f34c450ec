"""``piano-eval score``: a performance against its score, bar by bar, with the 19-dimension profile per window."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from piano_data.errors import PianoDataError

from piano_eval.cli.inputs import load_performance
from piano_eval.cli.texts import SCORE_HELP

if TYPE_CHECKING:
    from piano_data.score import ScoreData

    from piano_eval.practice.report import PracticeReport, Scorer

SCORE_SUFFIXES = {".mid", ".midi", ".musicxml", ".mxl", ".xml"}

EXIT_CODES = """exit codes:
  0  report written
  2  bad input: a file that is missing, empty or unreadable, a performance without notes (or audio in which
     no piano is transcribed), an unusable --checkpoint; one line on stderr, nothing written
  3  report written, but the performance does not follow the score (probably another piece): the report
     says so and holds no bar-by-bar feedback"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "score",
        help=SCORE_HELP,
        description="Align PERFORMANCE (MIDI, or audio transcribed first) to SCORE (MIDI or MusicXML), then report "
        "bar by bar where it was played, missed, extra and wrong notes (pitch names, expected vs played), tempo "
        "against the score's tempo and loudness, the bars that depart most, and the 19 PercePiano dimensions per "
        "window of the length the model was trained on (8 bars on the score's bar lines; time windows without "
        "a score) with the overall profile and its spread. Restarts and partial run-throughs give feedback on "
        "the bars actually played. Uses the model shipped with piano-eval unless --checkpoint is given.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("performance", type=Path, metavar="PERFORMANCE", help="performance MIDI or audio file")
    p.add_argument("--score", type=Path, default=None, help="score of the same music: MIDI, .musicxml, .mxl or .xml")
    p.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint folder from `piano-eval train` (default: shipped model)",
    )
    p.add_argument("--format", choices=("text", "json", "html"), default="text", help="report format (default: text)")
    p.add_argument("--output", type=Path, default=None, help="write the report here instead of stdout")
    p.add_argument("--plot", type=Path, default=None, help="also write the overall profile chart (PNG) here")
    p.add_argument("--window-bars", type=int, default=None, help="bars per window (default: the model's, 8)")
    p.add_argument(
        "--min-confidence",
        type=float,
        default=None,
        metavar="C",
        help="report a missed, extra or wrong note as a mistake only at this confidence or above, 0 to 1 (default: "
        "0.5); below it the note is listed as 'not sure'. 0 reports those as mistakes too (a left-out note of a "
        "written-out ornament, a left-out octave doubling); 0.7 only the clearest mistakes.",
    )
    p.add_argument(
        "--reference",
        type=Path,
        action="append",
        default=None,
        metavar="REFERENCE",
        help="another performance of the same score (MIDI or audio: a teacher's recording, another player's "
        "take); repeat for more. A departure that at least a quarter of the references share (an edition difference, "
        "an ornament played another way) is listed as not sure instead of as a mistake. Needs --score",
    )
    p.set_defaults(func=_score)


def load_score(path: Path) -> ScoreData:
    """A score file (MIDI or MusicXML) with its bars; errors name the file."""
    if not path.is_file():
        raise PianoDataError(path, "score file not found")
    if path.suffix.lower() not in SCORE_SUFFIXES:
        raise PianoDataError(
            path, f"unsupported score type {path.suffix!r} (MIDI .mid/.midi or MusicXML .musicxml/.mxl/.xml)"
        )
    from piano_data.score import read_score

    return read_score(path)


def load_scorer(checkpoint: Path | None) -> tuple[Scorer, dict[str, Any], int, float]:
    """The window scorer, its description for the report, and its window length (bars, seconds)."""
    if checkpoint is None:
        from piano_eval.practice.model import load_feature_model
        from piano_eval.practice.scorers import FeatureModelScorer

        model = load_feature_model(None)
        info = {
            "kind": model.card.get("kind"),
            "feature_version": model.card.get("feature_version"),
            "metrics": model.card.get("metrics", {}),
            "commit": model.card.get("commit"),
        }
        return FeatureModelScorer(model), info, model.window_bars, model.window_seconds
    from piano_eval.checkpoint import load_checkpoint
    from piano_eval.practice.scorers import CheckpointScorer

    experiment, manifest = load_checkpoint(checkpoint)
    info = {"checkpoint": str(checkpoint), "experiment": manifest.get("experiment")}
    return CheckpointScorer(experiment, manifest, checkpoint), info, 8, 20.0


def build_report(
    performance: Path,
    score: Path | None,
    checkpoint: Path | None = None,
    window_bars: int | None = None,
    references: list[Path] | None = None,
    min_confidence: float | None = None,
) -> PracticeReport:
    """Read, align, analyse: the report of one performance (raises :class:`PianoDataError` on bad input).
    ``references``: other performances of the same score (see :mod:`piano_eval.practice.references`);
    ``min_confidence``: the confidence at which a departure is a mistake (default: ``AnalysisConfig``'s)."""
    from piano_eval.practice.analysis import analyse
    from piano_eval.practice.report import AnalysisConfig

    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise PianoDataError(None, f"--min-confidence must be between 0 and 1 (got {min_confidence:g})")
    scorer, info, bars, seconds = load_scorer(checkpoint)  # a bad checkpoint fails before any slow work
    score_data = load_score(score) if score is not None else None
    notes = load_performance(performance)
    if len(notes) < 2:
        raise PianoDataError(performance, "the performance has fewer than two notes")
    if window_bars is not None and window_bars < 1:
        raise PianoDataError(None, "--window-bars must be at least 1")
    cfg = AnalysisConfig(window_bars=window_bars)
    if min_confidence is not None:
        cfg = replace(cfg, min_confidence=min_confidence)
    if references and score is None:
        raise PianoDataError(references[0], "a reference performance needs --score (it is compared bar by bar)")
    ref_notes = []
    for path in references or []:
        ref = load_performance(path)
        if len(ref) < 2:
            raise PianoDataError(path, "the reference performance has fewer than two notes")
        ref_notes.append(ref)
    report = analyse(
        notes,
        score_data,
        scorer,
        model_info=info,
        cfg=cfg,
        references=ref_notes or None,
        window_bars=bars,
        window_seconds=seconds,
    )
    report.performance = str(performance)
    if score is not None:
        report.score = str(score)
    return report


def _score(args: argparse.Namespace) -> int:
    from piano_data.atomic import write_bytes_atomic, write_text_atomic

    from piano_eval.practice import render

    report = build_report(
        args.performance, args.score, args.checkpoint, args.window_bars, args.reference, args.min_confidence
    )
    text = {"text": render.to_text, "json": render.to_json, "html": render.to_html}[args.format](report)
    if args.output:
        write_text_atomic(args.output, text if text.endswith("\n") else text + "\n")
    else:
        print(text)
    if args.plot:
        png = render.figures(report).get("profile")
        if png is None:
            print("piano-eval score: note: no window was scored, so no profile chart", file=sys.stderr)
        else:
            write_bytes_atomic(args.plot, png)
    if not report.trusted and args.score is not None:
        print(
            f"piano-eval score: warning: {args.performance} does not follow the score {args.score} "
            "(probably another piece): no bar feedback",
            file=sys.stderr,
        )
        return 3
    return 0
