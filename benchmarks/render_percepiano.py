"""Render every PercePiano segment with two soundfonts into a cache, twice; print timings as JSON.

    nice -n 10 .venv/bin/python benchmarks/render_percepiano.py --data-root ../shared/data \
        --cache /work/cache/render

The second pass must be all cache hits.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from piano_data.paths import find_data_root
from piano_data.percepiano import load_percepiano
from piano_data.render import render_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "piano-eval" / "render")
    ap.add_argument("--soundfonts", nargs="+", default=["timgm6mb", "additive_piano"])
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    root = args.data_root or find_data_root()
    if root is None:
        raise SystemExit("no data root (pass --data-root or set PIANO_EVAL_DATA)")
    segments = load_percepiano(root / "percepiano")
    out: dict[str, object] = {
        "segments": len(segments),
        "soundfonts": args.soundfonts,
        "cache": str(args.cache),
    }
    for run in ("first", "second"):
        rep = render_all(segments, args.soundfonts, args.cache, workers=args.workers)
        out[run] = {
            "rendered": len(rep.segments),
            "hits": rep.hits,
            "misses": rep.misses,
            "skipped": len(rep.skipped),
            "audio_hours": round(rep.audio_seconds / 3600, 3),
            "wall_s": round(rep.wall_seconds, 2),
            "x_realtime": round(rep.x_realtime, 1),
        }
        per_sf: dict[str, float] = {}
        for s in rep.segments:
            per_sf[s.extra["soundfont"]] = per_sf.get(s.extra["soundfont"], 0) + 1
        out[run]["per_soundfont"] = per_sf  # type: ignore[index]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
