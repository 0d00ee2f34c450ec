"""Options and entry point of ``benchmarks/bench_align.py``: ASAP score-alignment benchmark (ours, plain DTW,
parangonar) as JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from piano_data.atomic import write_text_atomic
from piano_data.errors import PianoDataError

from align_bench.core import METHODS, asap_performances, markdown_report, run_audio_benchmark, run_midi_benchmark


def build_parser() -> argparse.ArgumentParser:
    """The options of ``bench_align.py``."""
    p = argparse.ArgumentParser(
        prog="bench_align.py",
        description="Map every annotated ASAP score beat through each aligner's time map and compare it with "
        "the annotated performance beat. Our aligner and plain DTW run on every selected performance; "
        "parangonar (slow on long pieces) on every --reference-every-th one, where a same-pieces table "
        "of all three is also printed. --audio-subset N renders the first --excerpt seconds of N "
        "performances (to the last annotated beat), transcribes them with transkun and aligns the "
        "transcriptions to the score excerpts. Prints one JSON document.",
    )
    p.add_argument("--data-root", type=Path, required=True, help="the ASAP folder (holds metadata.csv)")
    p.add_argument("--limit", type=int, default=None, help="only the first N selected performances")
    p.add_argument("--every", type=int, default=1, help="select every k-th performance of metadata.csv")
    p.add_argument("--reference-every", type=int, default=1, help="run parangonar on every k-th selected one")
    p.add_argument("--audio-subset", type=int, default=0, help="N performances for the audio benchmark")
    p.add_argument("--excerpt", type=float, default=30.0, help="audio: seconds from the start of each performance")
    p.add_argument("--cache", type=Path, default=Path("/tmp/piano_eval_align_render"), help="render cache")
    p.add_argument("--methods", default="ours,plain-dtw,parangonar", help="comma-separated methods")
    p.add_argument("--output", type=Path, default=None, help="also write the JSON here")
    p.add_argument("--markdown", type=Path, default=None, help="also write the tables as Markdown here")
    p.add_argument("--plot", type=Path, default=None, help="PNG: share of beats within each error, per method")
    p.add_argument("--pieces-log", type=Path, default=None, help="write per-piece results (JSON lines) here")
    p.add_argument(
        "--resume",
        action="store_true",
        help="reuse the results already in --pieces-log and run only the missing (piece, method) pairs",
    )
    p.add_argument("--jobs", type=int, default=1, help="processes for the MIDI benchmark (each single-threaded)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; a bad option or input is one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return _bench(args)
    except PianoDataError as exc:
        print(f"bench_align.py: error: {exc}", file=sys.stderr)
        return 2


def _bench(args: argparse.Namespace) -> int:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.resume and args.pieces_log is None:
        raise PianoDataError(None, "--resume needs --pieces-log (the log of the run to resume)")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise PianoDataError(None, f"unknown methods {unknown}; choose from {sorted(METHODS)}")
    items = asap_performances(args.data_root)
    selected = items[:: max(1, args.every)][: args.limit]
    started = time.time()
    report: dict[str, Any] = {
        "benchmark": "ASAP performance-to-score alignment (beat level)",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "selection": {
            "performances_listed": len(items),
            "every": args.every,
            "limit": args.limit,
            "reference_every": args.reference_every,
        },
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": 1},
        "midi": run_midi_benchmark(
            selected,
            args.reference_every,
            methods,
            args.pieces_log,
            jobs=max(1, args.jobs),
            resume=args.resume,
            plot=args.plot,
        ),
    }
    if args.audio_subset > 0:
        report["audio"] = run_audio_benchmark(items, args.audio_subset, args.cache, args.excerpt, methods=methods)
    report["wall_s"] = round(time.time() - started, 1)
    text = json.dumps(report, indent=2)
    for path, content in ((args.output, text + "\n"), (args.markdown, markdown_report(report))):
        if path is not None:
            write_text_atomic(path, content)
    print(text)
    return 0
