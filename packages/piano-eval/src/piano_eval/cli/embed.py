"""``piano-eval embed``: frozen MuQ features into the embedding cache, once, resumable.

Inputs are audio files/folders, or (``--data-root``) the PercePiano segments rendered from MIDI. Entries
already
in the cache are skipped, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from piano_data.errors import PianoDataError
from piano_data.paths import cache_root

from piano_eval.errors import UsageError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".opus")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "embed",
        help="extract frozen MuQ features into the embedding cache (resumable)",
        description="Encode audio with a frozen MuQ (layers concatenated, 25 frames/s) and store the frames "
        "(or their mean with --pooled) in the embedding cache, keyed by file content, encoder and layers.",
    )
    p.add_argument("inputs", nargs="*", type=Path, metavar="AUDIO", help="audio files or folders (recursive)")
    p.add_argument("--data-root", type=Path, default=None, help="embed PercePiano segments rendered from MIDI")
    p.add_argument("--soundfont", default="timgm6mb", help="soundfont for --data-root rendering (default: timgm6mb)")
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="cache folder (default: $PIANO_EVAL_CACHE/embeddings or ~/.cache/piano-eval/embeddings)",
    )
    p.add_argument("--muq-weights", default=None, help="local folder (or cached hub id) of real MuQ weights")
    p.add_argument(
        "--muq",
        choices=("tiny", "large"),
        default="large",
        help="random preset when no --muq-weights (default: large; tiny is for tests)",
    )
    p.add_argument("--layers", default=None, help="comma-separated 1-based layers (default: 9,10,11,12)")
    p.add_argument("--pooled", action="store_true", help="store the mean over frames [D] instead of [T, D]")
    p.add_argument("--limit", type=int, default=None, help="embed at most N inputs")
    p.add_argument("--strict", action="store_true", help="stop at the first bad file instead of skipping it")
    p.set_defaults(func=_embed)


def _audio_files(inputs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files += sorted(p for p in item.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        elif item.is_file():
            files.append(item)
        else:
            raise PianoDataError(item, "file or folder not found")
    return files


def _embed(args: argparse.Namespace) -> int:
    from piano_audio import muq_backbone, muq_large, muq_tiny
    from piano_audio.features import extract_to_cache
    from piano_data.cache import EmbeddingCache

    if not args.inputs and args.data_root is None:
        raise UsageError("give audio files/folders or --data-root")
    files = _audio_files(list(args.inputs))
    if args.data_root is not None:
        from piano_data.percepiano import load_percepiano

        from piano_eval.experiments.audio import render_audio

        segments = load_percepiano(args.data_root / "percepiano")[: args.limit]
        files += [Path(str(s.audio_path)) for s in render_audio(segments, {"soundfont": args.soundfont})]
    files = files[: args.limit]
    layers = tuple(int(x) for x in args.layers.split(",")) if args.layers else None
    if args.muq_weights:
        backbone = muq_backbone(weights=args.muq_weights, layers=layers)
    else:
        cfg = muq_tiny() if args.muq == "tiny" else muq_large()
        backbone = muq_backbone(cfg, layers=layers)
    root = args.cache or cache_root() / "embeddings"
    cache = EmbeddingCache(root)
    _, report = extract_to_cache(
        backbone, files, cache, weights=args.muq_weights, pooled=args.pooled, strict=args.strict
    )
    print(
        json.dumps(
            {
                "cache": str(root),
                "inputs": len(files),
                "computed": report.computed,
                "already_cached": report.cached,
                "failed": len(report.failed),
                "audio_s": round(report.audio_seconds, 1),
                "wall_s": round(report.wall_seconds, 1),
                "output_dim": backbone.output_dim,
            }
        )
    )
    for path, problem in report.failed[:5]:
        print(f"skipped {path}: {problem}")
    return 0 if not report.failed or report.computed + report.cached else 2
