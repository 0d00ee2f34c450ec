"""Renderer speed side by side: CPU seconds per PercePiano segment, cold (empty cache), for each soundfont that
is installed (tinysoundfont for every name; ``+fluidsynth`` names when the fluidsynth CLI is there). Prints JSON.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_render_speed.py --n 40

CPU time (``time.process_time`` plus the children's, for the fluidsynth subprocess) rather than wall time, as
the development machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from piano_data.paths import find_data_root
from piano_data.percepiano import load_percepiano
from piano_data.render import render_midi
from piano_data.soundfonts import available_soundfonts, find_soundfont


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--n", type=int, default=40, help="segments (every k-th of the 1,202)")
    args = ap.parse_args()
    root = args.data_root or find_data_root()
    if root is None:
        raise SystemExit("no data root")
    segments = load_percepiano(root / "percepiano")
    chosen = segments[:: max(1, len(segments) // args.n)][: args.n]
    out: dict[str, object] = {"segments": len(chosen), "soundfonts": {}}
    for name in available_soundfonts():
        sfont = find_soundfont(name)
        with tempfile.TemporaryDirectory() as cache:
            render_midi(chosen[0].midi_path, sfont, cache)  # load the soundfont once, outside the timing
            cpu0, wall0, audio = _cpu(), time.perf_counter(), 0.0
            for seg in chosen[1:]:
                audio += render_midi(seg.midi_path, sfont, cache).seconds
            cpu, wall = _cpu() - cpu0, time.perf_counter() - wall0
        out["soundfonts"][name] = {  # type: ignore[index]
            "synth": sfont.synth,
            "renders": len(chosen) - 1,
            "audio_s": round(audio, 1),
            "cpu_ms_per_render": round(1000 * cpu / (len(chosen) - 1), 1),
            "x_realtime_per_cpu_s": round(audio / cpu, 1) if cpu > 0 else None,
            "wall_s": round(wall, 1),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
