"""``piano-eval transcribe``: piano audio -> MIDI with transkun (pretrained checkpoint from its wheel,
offline).

Exit codes: 0 written; 2 bad input, nothing written: unreadable, empty, silent or (with ``--no-allow-clipped``)
clipped audio, a file that decodes to far less than its header promises (truncated; ``--allow-truncated`` to
use what is there), or audio in which no piano note is found (noise, speech).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

#: The transcribers of ``piano_audio.transcribe.MODELS`` (kept here so that ``--help`` does not import torch).
MODEL_CHOICES: tuple[str, ...] = ("transkun",)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe piano audio to MIDI (transkun)",
        description="Transcribe AUDIO (wav/flac/ogg/mp3/aiff/opus; any rate, mono or stereo) to a one-track "
        "piano MIDI with sustain pedal, using transkun's pretrained checkpoint (no network needed). Audio in "
        "which no piano note is found, and a file that decodes to far less than its header promises "
        "(a truncated download), are errors (exit code 2, nothing written).",
    )
    p.add_argument("audio", type=Path, metavar="AUDIO", help="audio file")
    p.add_argument("--output", "-o", type=Path, required=True, metavar="MIDI", help="MIDI file to write")
    p.add_argument("--model", choices=MODEL_CHOICES, default="transkun", help="transcriber (default: transkun)")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="torch threads during transcription (default: the cores other work leaves idle, 1 to 4)",
    )
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="auto: bfloat16 where the CPU computes it natively, else float32 (default: auto)",
    )
    p.add_argument(
        "--allow-clipped",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="accept clipped audio (default: yes)",
    )
    p.add_argument(
        "--allow-truncated",
        action="store_true",
        help="transcribe what a truncated file holds instead of failing",
    )
    p.set_defaults(func=_transcribe)


def _transcribe(args: argparse.Namespace) -> int:
    from piano_audio.transcribe import transcribe_audio
    from piano_data.midi import write_notes

    start, cpu = time.perf_counter(), time.process_time()
    result = transcribe_audio(
        args.audio,
        model=args.model,
        device=args.device,
        threads=args.threads,
        precision=args.precision,
        allow_clipped=args.allow_clipped,
        allow_truncated=args.allow_truncated,
    )
    out = write_notes(result.notes, args.output)
    print(
        json.dumps(
            {
                "output": str(out),
                "model": result.model,
                "precision": result.precision,
                "threads": result.threads,
                "notes": len(result.notes),
                "pedal_intervals": len(result.notes.pedal),
                "seconds_of_audio": round(result.audio_seconds, 2),
                "wall_s": round(time.perf_counter() - start, 2),
                "cpu_s": round(time.process_time() - cpu, 2),
            }
        )
    )
    return 0
