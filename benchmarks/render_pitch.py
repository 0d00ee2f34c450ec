"""Pitch and level of the default soundfonts as rendered by ``piano_data.render``: the YIN f0 of single notes
(deviation from the MIDI key in semitones) and the RMS of a six-note phrase at several velocities.

    PIANO_EVAL_CACHE=/tmp/render-pitch OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/render_pitch.py

The f0 estimator is the one ``packages/piano-data/tests/test_render.py`` asserts with (loaded from that file).
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from piano_data.midi import NoteArray, write_notes
from piano_data.render import RenderConfig, render_midi

_TESTS = Path(__file__).resolve().parents[1] / "packages" / "piano-data" / "tests" / "test_render.py"


def main() -> None:
    spec = importlib.util.spec_from_file_location("test_render", _TESTS)
    assert spec is not None and spec.loader is not None
    tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests)
    tmp = Path(tempfile.mkdtemp(prefix="render-pitch-"))
    for name in ("timgm6mb", "additive_piano"):
        for rate in (24000, 44100):
            row = []
            for pitch in (40, 45, 57, 69, 81, 84):
                notes = NoteArray.from_arrays(np.array([0.0]), np.array([1.0]), np.array([pitch]), np.array([90]))
                midi = write_notes(notes, tmp / f"{pitch}.mid")
                path = render_midi(midi, name, tmp / "cache", RenderConfig(sample_rate=rate)).path
                audio, sr = sf.read(str(path), dtype="float64")
                f0 = tests._yin_f0(audio[int(0.15 * sr) : int(0.45 * sr)], sr)
                row.append(f"{pitch}:{12 * np.log2(f0 / (440 * 2 ** ((pitch - 69) / 12))):+.2f}")
            print(name, rate, "semitones off", " ".join(row))
        levels = []
        for v in (20, 40, 80, 110, 127):
            onset = np.arange(6) * 0.3
            notes = NoteArray.from_arrays(onset, onset + 0.25, 60 + np.arange(6), np.full(6, v))
            path = render_midi(write_notes(notes, tmp / f"v{v}.mid"), name, tmp / "cache").path
            levels.append(f"v{v}:{tests._rms(path):.4f}")
        print(name, "rms", " ".join(levels))


if __name__ == "__main__":
    main()
