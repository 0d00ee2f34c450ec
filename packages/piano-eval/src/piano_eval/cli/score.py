"""``piano-eval score``: a performance (MIDI or audio) -> the 19-dimension profile, with a chart."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from piano_data.errors import PianoDataError
from piano_data.midi import read_notes
from piano_data.samples import Segment

from piano_eval.checkpoint import load_checkpoint
from piano_eval.experiments.base import RunContext
from piano_eval.report import Report, write_report

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".aif", ".aiff"}
MIDI_SUFFIXES = {".mid", ".midi"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "score",
        help="rate a performance (MIDI or audio) on the 19 PercePiano dimensions",
        description="Rate PERFORMANCE with a checkpoint from `piano-eval train`. With --score, the report also "
        "shows how the performance departs from the score (tempo, timing, missed and extra notes). "
        "Audio is transcribed to MIDI first.",
    )
    p.add_argument("performance", type=Path, metavar="PERFORMANCE", help="performance MIDI or audio file")
    p.add_argument("--score", type=Path, default=None, help="score MIDI of the same passage")
    p.add_argument("--checkpoint", type=Path, required=True, help="checkpoint folder from `piano-eval train`")
    p.add_argument("--format", choices=("text", "json", "html"), default="text")
    p.add_argument("--output", type=Path, default=None, help="write the report here instead of stdout")
    p.add_argument("--plot", type=Path, default=None, help="write the profile chart (PNG) here")
    p.set_defaults(func=_score)


def as_midi(path: Path, workdir: Path) -> tuple[Path, list[str]]:
    """A MIDI path for ``path``: itself, or its transcription when it is audio."""
    if not path.is_file():
        raise PianoDataError(path, "file not found")
    suffix = path.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return path, []
    if suffix in AUDIO_SUFFIXES:
        try:
            from piano_audio.transcribe import transcribe
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise PianoDataError(path, f"audio needs the transcription of piano-audio-encoders ({exc})") from None
        from piano_data.midi import write_notes

        out = write_notes(transcribe(path), workdir / f"{path.stem}.transcribed.mid")
        return out, [f"audio transcribed to MIDI with transkun ({out.name})"]
    raise PianoDataError(
        path,
        f"unsupported file type {suffix!r} (MIDI: .mid/.midi; audio: {', '.join(sorted(AUDIO_SUFFIXES))})",
    )


_SCORE_VIEW = {
    "tempo_ratio": "tempo ratio (performance time / score time)",
    "onset_dev_std": "timing deviation from a steady tempo (s, std)",
    "tempo_curve_std": "local tempo variation (log ratio, std)",
    "vel_dev_std": "dynamics deviation from the score (velocity std)",
    "missed_rate": "score notes not found in the performance",
    "extra_rate": "performed notes not in the score",
    "match_rate": "score notes matched",
}


def _score(args: argparse.Namespace) -> int:
    experiment, manifest = load_checkpoint(args.checkpoint)
    workdir = Path(tempfile.mkdtemp(prefix="piano-eval-score-"))
    midi, notes = as_midi(args.performance, workdir)
    read_notes(midi)  # validate early with a clear error
    score = None
    if args.score is not None:
        score, score_notes = as_midi(args.score, workdir)
        read_notes(score)
        notes += score_notes
    segment = Segment(
        key=args.performance.stem,
        midi_path=midi,
        piece="user",
        segment="0",
        player="user",
        work="user",
        score_midi_path=score,
    )
    pred = experiment.predict([segment], RunContext(workdir=workdir))
    view: dict[str, Any] = {}
    if score is not None and pred.details:
        feats = pred.details[0].get("features", {})
        for key, label in _SCORE_VIEW.items():
            if key in feats:
                view[label] = round(float(feats[key]), 3)
        if pred.details[0].get("out_of_range_share", 0) > 0.2:
            notes.append("many features lie outside the training range: treat this profile with caution")
    elif score is None:
        notes.append("no --score given: the profile cannot say how the playing departs from the score")
    report = Report(
        performance=str(args.performance),
        score=None if score is None else str(args.score),
        checkpoint=str(args.checkpoint),
        experiment=manifest["experiment"],
        values=pred.values[0],
        confidence=None if pred.confidence is None else pred.confidence[0],
        score_view=view,
        notes=notes,
    )
    if args.output:
        write_report(report, args.format, args.output)
    else:
        print(report.render(args.format))
    if args.plot:
        report.write_chart(args.plot)
    return 0
