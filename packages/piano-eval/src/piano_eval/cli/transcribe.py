"""``piano-eval transcribe``: piano audio -> MIDI with transkun (pretrained checkpoint from its wheel,
offline)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe piano audio to MIDI (transkun)",
        description="Transcribe AUDIO (wav/flac/ogg/mp3/aiff/opus; any rate, mono or stereo) "
        "to a one-track piano "
        "MIDI with sustain pedal, using transkun's pretrained checkpoint (no network needed).",
    )
    p.add_argument("audio", type=Path, metavar="AUDIO", help="audio file")
    p.add_argument("--output", "-o", type=Path, required=True, metavar="MIDI", help="MIDI file to write")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument(
        "--allow-clipped",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="accept clipped audio (default: yes)",
    )
    p.set_defaults(func=_transcribe)


def _transcribe(args: argparse.Namespace) -> int:
    from piano_audio.transcribe import transcribe_to_midi

    start = time.perf_counter()
    out, notes = transcribe_to_midi(args.audio, args.output, device=args.device, allow_clipped=args.allow_clipped)
    print(
        json.dumps(
            {
                "output": str(out),
                "notes": len(notes),
                "pedal_intervals": len(notes.pedal),
                "seconds_of_audio": round(float(notes.end_time), 2),
                "wall_s": round(time.perf_counter() - start, 2),
            }
        )
    )
    return 0
