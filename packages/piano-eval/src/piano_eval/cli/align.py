"""``piano-eval align``: performance (MIDI or audio) -> score time map CSV (and note matches)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes
from piano_symbolic.align import Alignment, align_notes, write_note_matches_csv, write_time_map_csv

from piano_eval.cli.inputs import load_performance

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "align",
        help="align a performance (MIDI or audio) to its score MIDI: a score->performance time map",
        description="Align PERFORMANCE to SCORE and write the time map as CSV with the header "
        "score_time,performance_time (seconds, non-decreasing). Audio is transcribed with transkun first. "
        "A low-confidence alignment (probably another piece) or a performance much longer than its score "
        "is reported on stderr and in the exit code 3; a performance that skips part of the score (a cut, a "
        "repeat not taken), goes back and plays a passage again (restarts: the map follows the take that "
        "continues) or plays only part of the score (a practice excerpt: the played span is mapped) is noted "
        "on stderr with exit code 0. --notes writes one row per note with its status: matched, substituted "
        "(a wrong pitch at the right place), missed or extra.",
    )
    p.add_argument("performance", type=Path, metavar="PERFORMANCE", help="performance MIDI or audio file")
    p.add_argument("score", type=Path, metavar="SCORE", help="score MIDI (e.g. ASAP midi_score.mid)")
    p.add_argument("--output", type=Path, required=True, metavar="MAP.csv", help="time map CSV to write")
    p.add_argument("--notes", type=Path, default=None, metavar="FILE", help="also write note matches (CSV)")
    p.set_defaults(func=_align)


def run_alignment(performance: Path, score: Path) -> tuple[Alignment, NoteArray, NoteArray]:
    """Load both files and align them with :func:`piano_symbolic.align.align_notes`."""
    score_notes = read_notes(score)
    perf_notes = load_performance(performance)
    return align_notes(score_notes, perf_notes), score_notes, perf_notes


def _align(args: argparse.Namespace) -> int:
    result, score, perf = run_alignment(args.performance, args.score)
    write_time_map_csv(result.time_map, args.output)
    if args.notes is not None:
        if result.matches is None:
            raise PianoDataError(args.notes, "the alignment gives no note matches")
        write_note_matches_csv(result.matches, score, perf, args.notes)
    m = result.matches
    matched = (
        ""
        if m is None
        else f", {m.n_matched}/{len(score)} score notes matched, {m.n_substituted} substituted, {m.n_missed} "
        f"missed, {m.n_extra} extra performed notes"
    )
    print(f"{args.output}: {len(result.time_map)} anchors, confidence {result.confidence:.2f}{matched}")
    if result.played_span is not None:
        s0, s1 = result.played_span
        print(f"played span: score {s0:.2f}-{s1:.2f} s")
    for r in result.restarts:
        print(f"restart: at performance {r.performance_time:.2f} s, back to score {r.score_time:.2f} s")
    notes = {
        "skipped_section": "the performance skips part of the score (skipped_section)",
        "restart": f"the performance goes back {len(result.restarts)} time(s) (restart; the map follows the "
        "take that continues)",
        "partial": "only part of the score was played (partial; the played span is mapped)",
    }
    for flag, text in notes.items():
        if flag in result.flags:
            print(f"piano-eval align: note: {text}", file=sys.stderr)
    warnings = [f for f in result.flags if f not in notes]
    if warnings:
        print(f"piano-eval align: warning: {', '.join(warnings)}", file=sys.stderr)
        return 3
    return 0
