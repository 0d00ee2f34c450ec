"""piano_data benchmark: rendering speed (x real time), augmentation throughput, cache read throughput.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_data.py [--data-root ../shared/data]

Prints one JSON object. Rendering uses PercePiano MIDI when the data root has it (else generated MIDI) into a
fresh temporary cache (cold), then renders the same files again (cache hits). Augmentation runs the default
AudioAugmentor (design probabilities) and each augmentation alone on 10 s clips. The cache benchmark writes
MuQ-sized entries ([250, 4096] float32 = 10 s at 25 frames/s, 4 MB each) and reads them back memory-mapped,
in this process and through a 2-worker DataLoader. Wall-clock numbers depend on the machine's load: state it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from piano_data.augment import AUGMENTATIONS, AudioAugmentor, AugmentConfig
from piano_data.cache import CacheKey, EmbeddingCache
from piano_data.contracts import MUQ_DIM, MUQ_FRAME_RATE, SAMPLE_RATE
from piano_data.datasets import CachedFeatures, ClipDataset, collate_tiers
from piano_data.midi import NoteArray, write_notes
from piano_data.paths import find_data_root
from piano_data.render import render_all
from piano_data.samples import Segment
from piano_data.soundfonts import available_soundfonts
from piano_data.tiers import Clip
from torch.utils.data import DataLoader


def _midi_segments(data_root: Path | None, n: int, tmp: Path) -> tuple[list[Segment], str]:
    if data_root is not None and (data_root / "percepiano" / "midi" / "all_2rounds").is_dir():
        files = sorted((data_root / "percepiano" / "midi" / "all_2rounds").glob("*.mid"))
        step = max(1, len(files) // n)
        picked, source = files[::step][:n], "percepiano"
    else:
        rng = np.random.default_rng(0)
        picked, source = [], "generated"
        for i in range(n):
            onset = np.sort(rng.uniform(0, 12, 120))
            notes = NoteArray.from_arrays(
                onset,
                onset + rng.uniform(0.1, 0.8, 120),
                rng.integers(40, 90, 120),
                rng.integers(30, 110, 120),
            )
            picked.append(write_notes(notes, tmp / f"gen{i}.mid"))
    segs = [Segment(key=p.stem, midi_path=p, piece="p", segment="1", player="x", work="w") for p in picked]
    return segs, source


def bench_render(data_root: Path | None, n: int, tmp: Path) -> dict[str, object]:
    segments, source = _midi_segments(data_root, n, tmp)
    out: dict[str, object] = {"midi_source": source, "segments": len(segments)}
    for name in ("fluidr3", "timgm6mb", "musescore_lite"):
        if name not in available_soundfonts():
            out[name] = "not installed"
            continue
        cold = render_all(segments, [name], tmp / "render", progress=False)
        warm = render_all(segments, [name], tmp / "render", progress=False)
        out[name] = {
            "audio_s": round(cold.audio_seconds, 1),
            "cold_wall_s": round(cold.wall_seconds, 2),
            "cold_x_realtime": round(cold.x_realtime, 1),
            "cold_s_per_file": round(cold.wall_seconds / max(1, cold.misses), 3),
            "warm_hits": warm.hits,
            "warm_s_per_file": round(warm.wall_seconds / max(1, len(segments)), 5),
        }
    return out


def bench_augment(data_root: Path | None, n_clips: int) -> dict[str, object]:
    rng = np.random.default_rng(0)
    t = np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE
    clips = [
        (0.2 * np.sin(2 * np.pi * rng.uniform(100, 1000) * t) * np.exp(-(t % 1.0))).astype(np.float32)
        for _ in range(n_clips)
    ]
    irs = data_root / "room_irs" if data_root is not None and (data_root / "room_irs").is_dir() else None
    aug = AudioAugmentor(AugmentConfig(ir_dir=irs))
    aug.apply_only("room_ir", clips[0], 0)  # load the IRs outside the timing
    audio_s = n_clips * 10.0
    start = time.perf_counter()
    applied = 0
    for i, clip in enumerate(clips):
        applied += len(aug(clip, i)[1])
    wall = time.perf_counter() - start
    out: dict[str, object] = {
        "ir_dir": str(irs) if irs else "generated",
        "clip_s": 10.0,
        "default_x_realtime": round(audio_s / wall, 1),
        "default_clips_per_s": round(n_clips / wall, 2),
        "default_mean_applied": round(applied / n_clips, 2),
    }
    per: dict[str, float] = {}
    for name in AUGMENTATIONS:
        k = max(3, n_clips // 4)
        start = time.perf_counter()
        for i in range(k):
            aug.apply_only(name, clips[i % n_clips], i)
        per[name] = round(k * 10.0 / (time.perf_counter() - start), 1)
    out["only_x_realtime"] = per
    return out


def _key(c: Clip) -> CacheKey:
    return CacheKey(c.content_hash, "bench", layer_spec="9-12")


def bench_cache(tmp: Path, n: int) -> dict[str, object]:
    cache = EmbeddingCache(tmp / "emb")
    frames = 10 * MUQ_FRAME_RATE
    arr = np.random.default_rng(0).standard_normal((frames, MUQ_DIM)).astype(np.float32)
    clips = [Clip(f"c{i}", Path("x"), "audio", 0.0, 10.0, "bench", f"h{i:05d}") for i in range(n)]
    start = time.perf_counter()
    for c in clips:
        cache.put(_key(c), arr)
    write_s = time.perf_counter() - start
    mb = n * arr.nbytes / 2**20
    start = time.perf_counter()
    total = 0.0
    for c in clips:
        got = cache.get(_key(c))
        total += float(np.asarray(got).sum(dtype=np.float64))  # touch every byte
    read_s = time.perf_counter() - start
    loader = DataLoader(
        ClipDataset(clips, CachedFeatures(cache, _key)), batch_size=8, num_workers=2, collate_fn=collate_tiers
    )
    start = time.perf_counter()
    for batch in loader:
        assert batch["x"].shape[1:] == (frames, MUQ_DIM)
    loader_s = time.perf_counter() - start
    report = cache.size_report()
    return {
        "entries": n,
        "entry_shape": [frames, MUQ_DIM],
        "total_mb": round(mb, 1),
        "write_mb_per_s": round(mb / write_s, 1),
        "read_mb_per_s": round(mb / read_s, 1),
        "read_entries_per_s": round(n / read_s, 1),
        "dataloader_2workers_entries_per_s": round(n / loader_s, 1),
        "size_report_bytes": report["bytes"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--render-files", type=int, default=24)
    ap.add_argument("--augment-clips", type=int, default=40)
    ap.add_argument("--cache-entries", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(1)
    data_root = args.data_root or find_data_root()
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp_name:
        tmp = Path(tmp_name)
        result = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            },
            "render": bench_render(data_root, args.render_files, tmp),
            "augment": bench_augment(data_root, args.augment_clips),
            "cache": bench_cache(tmp, args.cache_entries),
        }
        result["machine"]["load_avg_1m_end"] = round(os.getloadavg()[0], 2)  # type: ignore[index]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
