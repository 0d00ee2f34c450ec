"""piano_audio benchmark: MuQ-large forward cost (frozen / LoRA / unfrozen) and transkun transcription
quality.

    nice -n 10 .venv/bin/python benchmarks/bench_audio.py muq [--threads 2] [--seconds 10] [--reps 2]
    nice -n 10 .venv/bin/python benchmarks/bench_audio.py transcribe [--threads 2] [--n-percepiano 10] \
        [--n-asap 3] [--asap-seconds 30] [--data-root ../shared/data]

Each prints one JSON object. ``muq`` builds the large config (329M parameters, random weights: the cost does
not depend on the values) in a fresh subprocess per mode and reports the median wall time of ``reps`` passes
over ``seconds`` of audio after one warm-up, and the process's peak RSS (weights included) plus the peak minus
the RSS before the first pass. Modes: ``frozen`` (no grad), ``lora`` (rank 16 on layers 9-12, forward +
backward), ``unfrozen`` (every parameter trainable, forward + backward). ``transcribe`` renders PercePiano
segments and ASAP excerpts with fluidsynth (FluidR3), transcribes them with transkun and scores the notes
against the MIDI they were rendered from with mir_eval (onset-only F1 at 50 ms, and with offsets at 20%).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _muq_mode(mode: str, seconds: float, reps: int, threads: int) -> dict[str, Any]:
    import torch
    from piano_audio import muq_backbone, muq_large
    from piano_audio.lora import MuQLoRAConfig, apply_lora, trainable_fraction

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    backbone = muq_backbone(muq_large())
    build_s = time.perf_counter() - t0
    if mode == "lora":
        apply_lora(backbone, MuQLoRAConfig(rank=16))
    elif mode == "frozen":
        backbone.freeze()
    backbone.train(mode != "frozen")
    x = torch.randn(1, int(seconds * 24_000)) * 0.1

    def step() -> None:
        if mode == "frozen":
            with torch.no_grad():
                backbone(x)
        else:
            backbone(x).frames.pow(2).mean().backward()
            backbone.zero_grad(set_to_none=True)

    rss_before = _rss_mb()
    times, cpu = [], []
    for _ in range(reps + 1):
        t, c = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "mode": mode,
        "build_s": round(build_s, 1),
        "trainable_fraction": round(trainable_fraction(backbone), 5),
        "s_per_10s_audio": round(float(np.median(times[1:])) * 10.0 / seconds, 2),
        "cpu_s_per_10s_audio": round(float(np.median(cpu[1:])) * 10.0 / seconds, 2),
        "first_pass_s": round(times[0], 2),
        "peak_rss_mb": round(peak),
        "peak_minus_model_mb": round(peak - rss_before),
    }


def bench_muq(args: argparse.Namespace) -> dict[str, Any]:
    results = []
    for mode in ("frozen", "lora", "unfrozen"):
        cmd = [
            sys.executable,
            __file__,
            "_muq_mode",
            mode,
            "--seconds",
            str(args.seconds),
            "--reps",
            str(args.reps),
            "--threads",
            str(args.threads),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "bench": "muq_large_forward",
        "threads": args.threads,
        "seconds_of_audio": args.seconds,
        "reps": args.reps,
        "machine": platform.processor() or platform.machine(),
        "load_average": os.getloadavg(),
        "results": results,
    }


def _excerpt(midi: Path, seconds: float, out: Path) -> Path:
    from piano_data.midi import NoteArray, read_notes, write_notes

    notes = read_notes(midi)
    keep = notes.onset < seconds
    ped = notes.pedal[notes.pedal[:, 0] < seconds] if len(notes.pedal) else notes.pedal
    return write_notes(
        NoteArray.from_arrays(
            notes.onset[keep],
            np.minimum(notes.offset[keep], seconds),
            notes.pitch[keep],
            notes.velocity[keep],
            np.minimum(ped, seconds),
        ),
        out,
    )


def _scores(ref: Any, est: Any) -> dict[str, float]:
    import mir_eval

    def iv(n: Any) -> np.ndarray:
        return np.stack([n.onset, np.maximum(n.offset, n.onset + 1e-3)], axis=1)

    def hz(n: Any) -> np.ndarray:
        return 440.0 * 2.0 ** ((n.pitch - 69) / 12.0)

    if len(est) == 0:
        return {"f1_onset": 0.0, "precision": 0.0, "recall": 0.0, "f1_onset_offset": 0.0}
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        iv(ref), hz(ref), iv(est), hz(est), offset_ratio=None
    )
    _, _, f_off, _ = mir_eval.transcription.precision_recall_f1_overlap(iv(ref), hz(ref), iv(est), hz(est))
    return {"f1_onset": f, "precision": p, "recall": r, "f1_onset_offset": f_off}


def bench_transcribe(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from piano_audio.transcribe import load_transkun, transcribe
    from piano_data.midi import read_notes
    from piano_data.paths import find_data_root
    from piano_data.render import render_midi

    torch.set_num_threads(args.threads)
    root = args.data_root or find_data_root(Path(__file__).resolve().parent)
    if root is None:
        return {"bench": "transcription", "skipped": "no data root (../shared/data or $PIANO_EVAL_DATA)"}
    rng = random.Random(0)
    pp = sorted((root / "percepiano" / "midi" / "all_2rounds").glob("*.mid"))
    jobs = [("percepiano", p) for p in rng.sample(pp, args.n_percepiano)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-audio-"))
    asap = sorted((root / "asap").rglob("*.mid"))
    asap = [p for p in asap if p.name != "midi_score.mid"]
    for i, p in enumerate(rng.sample(asap, args.n_asap)):
        jobs.append(("asap", _excerpt(p, args.asap_seconds, tmp / f"asap{i}_{p.stem}.mid")))
    t = time.perf_counter()
    load_transkun("cpu")
    load_s = time.perf_counter() - t
    rows = []
    for source, midi in jobs:
        audio = render_midi(midi, "fluidr3", tmp / "render")
        t, c = time.perf_counter(), time.process_time()
        est = transcribe(audio.path)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        row = {
            "cpu_s": round(cpu, 2),
            "source": source,
            "midi": midi.name,
            "audio_s": round(audio.seconds, 2),
            "wall_s": round(wall, 2),
        }
        row.update({k: round(v, 4) for k, v in _scores(read_notes(midi), est).items()})
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    summary = {}
    for source in ("percepiano", "asap", "all"):
        sel = [r for r in rows if source in ("all", r["source"])]
        if sel:
            summary[source] = {
                "n": len(sel),
                "audio_s": round(sum(r["audio_s"] for r in sel), 1),
                "x_realtime_wall": round(sum(r["audio_s"] for r in sel) / sum(r["wall_s"] for r in sel), 3),
                "x_realtime_cpu": round(sum(r["audio_s"] for r in sel) / sum(r["cpu_s"] for r in sel), 3),
                **{
                    k: round(float(np.mean([r[k] for r in sel])), 4)
                    for k in ("f1_onset", "precision", "recall", "f1_onset_offset")
                },
            }
    return {
        "bench": "transcription",
        "model": "transkun 2.0 (wheel checkpoint)",
        "soundfont": "fluidr3",
        "threads": args.threads,
        "load_average": os.getloadavg(),
        "model_load_s": round(load_s, 2),
        "summary": summary,
        "items": rows,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("muq", "transcribe", "_muq_mode"))
    p.add_argument("mode", nargs="?", default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--n-percepiano", type=int, default=10)
    p.add_argument("--n-asap", type=int, default=3)
    p.add_argument("--asap-seconds", type=float, default=30.0)
    p.add_argument("--data-root", type=Path, default=None)
    args = p.parse_args()
    if args.what == "_muq_mode":
        print(json.dumps(_muq_mode(args.mode, args.seconds, args.reps, args.threads)))
        return
    result = bench_muq(args) if args.what == "muq" else bench_transcribe(args)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
