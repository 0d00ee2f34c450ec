"""Transcription speed and agreement on 30 s excerpts rendered from ASAP performance MIDI.

Three steps (see benchmarks/transcription.md for the commands and the numbers):

    # 1. render (symusic reads the MIDI, TinySoundFont renders it with pretty_midi's TimGM6mb.sf2)
    uv run --isolated --no-project --with symusic --with tinysoundfont==0.3.7 --with pretty_midi \
        --with soundfile python benchmarks/bench_transcribe.py render --out /tmp/tx
    # 2. transcribe each excerpt with one configuration, in a fresh process (start-up CPU counts)
    OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python benchmarks/bench_transcribe.py run --out /tmp/tx \
        --model transkun --threads 2 --name fast
    # 3. the table: CPU per audio second, start-up CPU, onset F1 (50 ms) against the MIDI and between runs
    .venv/bin/python benchmarks/bench_transcribe.py report --out /tmp/tx --reference transkun-default

Rendered audio is an easy case (no room, no microphone, one soundfont): agreement measured on it is an upper
bound of what real recordings give.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

#: (ASAP performance MIDI relative to the ASAP folder, excerpt start in seconds); 30 s from there.
EXCERPTS: tuple[tuple[str, float], ...] = (
    ("Bach/Fugue/bwv_848/Denisova06M.mid", 0.0),
    ("Beethoven/Piano_Sonatas/1-1/KimG01.mid", 10.0),
    ("Chopin/Ballades/1/Ali01.mid", 40.0),
    ("Liszt/Annees_de_pelerinage_2/1_Gondoliera/LeungM08M.mid", 20.0),
    ("Schumann/Arabeske/Min09M.mid", 10.0),
)
EXCERPT_S = 30.0
RATE = 44_100
ONSET_TOLERANCE_S = 0.05


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its waited-for children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _result(wav: Path, cpu: float, wall: float, onset: list[float], pitch: list[int]) -> dict[str, Any]:
    """One transcription's row: the file, its length, the cost and the notes (onsets in s, MIDI pitches)."""
    import soundfile as sf

    return {
        "file": wav.name,
        "audio_s": sf.info(str(wav)).duration,
        "cpu_s": cpu,
        "wall_s": wall,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "onset": onset,
        "pitch": pitch,
    }


def _asap_root(arg: Path | None) -> Path:
    if arg is not None:
        return arg
    here = Path(__file__).resolve().parent
    for cand in (here.parent.parent / "shared" / "data" / "asap", Path("/work/shared/data/asap")):
        if cand.is_dir():
            return cand
    sys.exit("ASAP folder not found: pass --asap")


def _soundfont() -> str:
    """pretty_midi's wheel ships TimGM6mb.sf2; find it next to whichever pretty_midi is importable, else in
    the project's .venv."""
    try:
        import pretty_midi

        path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    except ImportError:
        venv = Path(__file__).resolve().parent.parent / ".venv"
        path = next(venv.glob("lib/python3*/site-packages/pretty_midi/TimGM6mb.sf2"))
    return str(path)


def _synthesize(notes: list[tuple[float, float, int, int]], pedal: list[tuple[float, int]], seconds: float) -> Any:
    """Render notes ``(onset, offset, pitch, velocity)`` and CC64 values ``(time, value)`` with TinySoundFont
    (the ``tinysoundfont`` wheel) and TimGM6mb, 44.1 kHz mono float32. The pedal holds note-offs while down."""
    import numpy as np
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=RATE)
    synth.program_select(0, synth.sfload(_soundfont()), 0, 0)
    events: list[tuple[float, int, int, int]] = []  # (time, order, kind, value): kind 0 off, 1 pedal, 2 on
    for on, off, pitch, vel in notes:
        events += [(on, 2, pitch, vel), (max(off, on + 0.01), 0, pitch, 0)]
    events += [(t, 1, -1, v) for t, v in pedal]
    events.sort()
    out, now, down, held = [], 0, False, set()
    for t, kind, pitch, value in events:
        n = round(min(t, seconds) * RATE) - now
        if n > 0:
            out.append(np.frombuffer(synth.generate(n), dtype=np.float32).reshape(-1, 2).mean(axis=1))
            now += n
        if kind == 2:
            held.discard(pitch)
            synth.noteoff(0, pitch)
            synth.noteon(0, pitch, max(1, min(127, value)))
        elif kind == 1:
            down = value >= 64
            if not down:
                for p in held:
                    synth.noteoff(0, p)
                held.clear()
        elif down:
            held.add(pitch)
        else:
            synth.noteoff(0, pitch)
    rest = int(seconds * RATE) - now
    if rest > 0:
        out.append(np.frombuffer(synth.generate(rest), dtype=np.float32).reshape(-1, 2).mean(axis=1))
    return np.concatenate(out)


def render(out: Path, asap: Path) -> None:
    """Cut each excerpt from its performance MIDI, render it at 44.1 kHz mono, and write ``NN.wav`` and ``NN.mid``
    (the excerpt's notes shifted to start at 0: the ground truth).

    symusic's own Synthesizer is not used: 0.6.0 fails to return the array with numpy 2.4, and 0.5.8 renders
    TimGM6mb mistuned (notes come out 23-27 semitones sharp, by key zone), so TinySoundFont renders instead.
    """
    import numpy as np
    import soundfile as sf
    import symusic

    out.mkdir(parents=True, exist_ok=True)
    for k, (rel, start) in enumerate(EXCERPTS):
        score = symusic.Score(str(asap / rel), ttype="second")
        clip = score.clip(start, start + EXCERPT_S, clip_end=True).shift_time(-start)
        notes = [(n.time, n.end, n.pitch, n.velocity) for t in clip.tracks for n in t.notes]
        pedal = [(c.time, c.value) for t in clip.tracks for c in t.controls if c.number == 64]
        wave = _synthesize(notes, pedal, EXCERPT_S)
        wave *= 0.9 / max(float(np.abs(wave).max()), 1e-9)
        sf.write(out / f"{k:02d}.wav", wave, RATE, subtype="PCM_16")
        clip.dump_midi(str(out / f"{k:02d}.mid"))
        print(f"{k:02d}.wav  {rel} [{start:.0f}, {start + EXCERPT_S:.0f}] s  {len(notes)} notes", flush=True)


def _main_transcribe(wav: Path, threads: int) -> tuple[list[float], list[int]]:
    """What ``piano_audio.transcribe.transcribe`` did on main (commit 9d189a4): transkun's own
    ``TransKun.transcribe`` with its defaults (16 s segments, 8 s hop), float32, on ``threads`` threads."""
    import torch
    from piano_audio.audio import load_audio
    from piano_audio.transcribe import TRANSKUN_RATE, load_transkun

    model = load_transkun("cpu")
    model.backbone.useGradientCheckpoint = True  # as loaded on main (a no-op wrapper without gradients)
    torch.set_num_threads(threads)
    wave = load_audio(wav, target_rate=TRANSKUN_RATE, min_seconds=0.5, allow_clipped=True)
    with torch.inference_mode():
        events = model.transcribe(torch.from_numpy(wave)[:, None])
    notes = sorted((float(e.start), int(e.pitch)) for e in events if e.pitch > 0)
    return [n[0] for n in notes], [n[1] for n in notes]


def run(out: Path, model: str, threads: int, name: str, options: dict[str, Any]) -> None:
    """Transcribe every ``NN.wav`` in ``out`` in this (fresh) process; write ``runs/<name>.json`` with the
    start-up CPU (process start to model loaded, imports included), CPU per excerpt and the notes.

    ``model="transkun-main"`` runs the code path of main before this benchmark (see :func:`_main_transcribe`).
    """
    from piano_audio.transcribe import load_transcriber, transcribe

    wall0 = time.perf_counter()
    load_transcriber("transkun" if model == "transkun-main" else model)
    startup = _cpu_s()  # interpreter start, imports, model load
    startup_wall = time.perf_counter() - wall0
    results = []
    for wav in sorted(out.glob("[0-9][0-9].wav")):
        cpu0, w0 = _cpu_s(), time.perf_counter()
        if model == "transkun-main":
            onset, pitch = _main_transcribe(wav, threads)
        else:
            notes = transcribe(wav, model=model, threads=threads, **options)
            onset, pitch = notes.onset.tolist(), notes.pitch.tolist()
        cpu, wall = _cpu_s() - cpu0, time.perf_counter() - w0
        results.append(_result(wav, cpu, wall, onset, pitch))
        print(f"{name} {wav.name}: {cpu:.1f} CPU-s, {wall:.1f} s wall, {len(onset)} notes", flush=True)
    runs = out / "runs"
    runs.mkdir(exist_ok=True)
    record = {
        "name": name,
        "model": model,
        "threads": threads,
        "options": options,
        "startup_cpu_s": startup,
        "startup_wall_s": startup_wall,
        "files": results,
    }
    (runs / f"{name}.json").write_text(json.dumps(record))


def run_basic_pitch(out: Path, threads: int, name: str) -> None:
    """Same as :func:`run` with basic-pitch 0.4.0 (Spotify; its ONNX model ships in the wheel) on onnxruntime
    with ``threads`` intra-op threads. Runs in an environment of its own (basic-pitch pulls tensorflow on Linux
    with Python 3.11, so it is installed there with --no-deps, see benchmarks/transcription.md)."""
    import onnxruntime as ort
    from basic_pitch import ICASSP_2022_MODEL_PATH
    from basic_pitch.inference import Model, predict

    wall0 = time.perf_counter()
    onnx_path = Path(str(ICASSP_2022_MODEL_PATH)).with_name("nmp.onnx")
    net = Model(onnx_path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    net.model = ort.InferenceSession(str(onnx_path), sess_options=opts, providers=["CPUExecutionProvider"])
    startup, startup_wall = _cpu_s(), time.perf_counter() - wall0
    results = []
    for wav in sorted(out.glob("[0-9][0-9].wav")):
        cpu0, w0 = _cpu_s(), time.perf_counter()
        _, _, events = predict(wav, net)
        cpu, wall = _cpu_s() - cpu0, time.perf_counter() - w0
        notes = sorted((float(e[0]), int(e[2])) for e in events)
        results.append(_result(wav, cpu, wall, [n[0] for n in notes], [n[1] for n in notes]))
        print(f"{name} {wav.name}: {cpu:.1f} CPU-s, {wall:.1f} s wall, {len(notes)} notes", flush=True)
    runs = out / "runs"
    runs.mkdir(exist_ok=True)
    record = {
        "name": name,
        "model": "basic-pitch-onnx",
        "threads": threads,
        "options": {},
        "startup_cpu_s": startup,
        "startup_wall_s": startup_wall,
        "files": results,
    }
    (runs / f"{name}.json").write_text(json.dumps(record))


def onset_f1(ref: tuple[list[float], list[int]], est: tuple[list[float], list[int]], tol: float) -> float:
    """Onset F1 with one-to-one matching of same-pitch notes within ``tol`` seconds (mir_eval's
    ``transcription.precision_recall_f1_overlap`` with ``offset_ratio=None``)."""
    import mir_eval
    import numpy as np

    def intervals(onsets: list[float]) -> np.ndarray:
        on = np.asarray(onsets, dtype=float).reshape(-1, 1)
        return np.hstack([on, on + 0.1]) if on.size else np.zeros((0, 2))

    def hz(pitches: list[int]) -> np.ndarray:
        return 440.0 * 2.0 ** ((np.asarray(pitches, dtype=float) - 69.0) / 12.0)

    if not ref[0] and not est[0]:
        return 1.0
    if not ref[0] or not est[0]:
        return 0.0
    _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
        intervals(ref[0]), hz(ref[1]), intervals(est[0]), hz(est[1]), onset_tolerance=tol, offset_ratio=None
    )
    return float(f1)


def report(out: Path, reference: str | None) -> None:
    """A markdown table over every ``runs/*.json``: CPU-s per audio-s, start-up CPU, peak RSS, onset F1
    against the excerpt's MIDI and against the ``reference`` run."""
    from piano_data.midi import read_notes

    truth = {mid.stem + ".wav": read_notes(mid) for mid in sorted(out.glob("[0-9][0-9].mid"))}

    def true_notes(file: str, audio_s: float) -> tuple[list[float], list[int]]:
        notes = truth[file]
        keep = notes.onset < audio_s - ONSET_TOLERANCE_S  # an onset in the last 50 ms may be cut from the audio
        return notes.onset[keep].tolist(), notes.pitch[keep].tolist()

    runs = {p.stem: json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))}
    ref = runs.get(reference) if reference else None
    print(
        "| run | model | threads | options | start-up CPU-s | CPU-s per audio-s | wall-s per audio-s "
        "| peak RSS MB | onset F1 vs MIDI (mean, min) | onset F1 vs reference (mean, min) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, run_ in runs.items():
        files = run_["files"]
        audio_s = sum(f["audio_s"] for f in files)
        cpu = sum(f["cpu_s"] for f in files) / audio_s
        wall = sum(f["wall_s"] for f in files) / audio_s
        rss = max(f["max_rss_mb"] for f in files)
        f_truth = [
            onset_f1(true_notes(f["file"], f["audio_s"]), (f["onset"], f["pitch"]), ONSET_TOLERANCE_S) for f in files
        ]
        cells = f"{sum(f_truth) / len(f_truth):.3f}, {min(f_truth):.3f}"
        agree = "-"
        if ref is not None and name != reference:
            by_file = {f["file"]: (f["onset"], f["pitch"]) for f in ref["files"]}
            f_ref = [
                onset_f1(by_file[f["file"]], (f["onset"], f["pitch"]), ONSET_TOLERANCE_S)
                for f in files
                if f["file"] in by_file
            ]
            agree = f"{sum(f_ref) / len(f_ref):.3f}, {min(f_ref):.3f}" if f_ref else "-"
        opts = json.dumps(run_["options"]) if run_["options"] else "-"
        print(
            f"| {name} | {run_['model']} | {run_['threads']} | {opts} | {run_['startup_cpu_s']:.1f} | {cpu:.2f} "
            f"| {wall:.2f} | {rss:.0f} | {cells} | {agree} |"
        )
    print(f"\n{len(truth)} excerpts; onset tolerance {1000 * ONSET_TOLERANCE_S:.0f} ms.")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--asap", type=Path, default=None)
    m = sub.add_parser("run")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--model", default="transkun")
    m.add_argument("--threads", type=int, default=1)
    m.add_argument("--name", required=True)
    m.add_argument("--options", default="{}", help="JSON of extra keyword options for transcribe()")
    b = sub.add_parser("run-basic-pitch")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--name", required=True)
    t = sub.add_parser("report")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--reference", default=None)
    args = p.parse_args()
    if args.cmd == "render":
        render(args.out, _asap_root(args.asap))
    elif args.cmd == "run":
        run(args.out, args.model, args.threads, args.name, json.loads(args.options))
    elif args.cmd == "run-basic-pitch":
        run_basic_pitch(args.out, args.threads, args.name)
    else:
        report(args.out, args.reference)


if __name__ == "__main__":
    main()
