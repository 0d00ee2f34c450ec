"""Aligned-representation benchmark on ASAP: onset deviation after the local tempo is removed, per performance.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_aligned.py \
        [--data-root ../shared/data/asap] [--every 1] [--out benchmarks/out/aligned_asap.json]

Each ASAP development performance (``metadata.csv``; every ``--every``-th row, a deterministic subset) is
aligned to its ``midi_score.mid`` by :func:`piano_symbolic.aligned.align_performance` (cached under the cache
root, so a rerun only reads), and the per-note absolute onset deviation in beats (matched notes, relative to the
local-tempo-smoothed time map) is summarised per performance (median and mean). Prints one JSON document: the
median over performances of each, the share of performances under 0.1 beat, match rates, timings, and the ten
worst performances. Without ASAP it prints a JSON object saying so.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.errors import PianoDataError
from piano_data.midi import read_notes
from piano_data.paths import find_data_root
from piano_data.score import ScoreData, read_score
from piano_symbolic.aligned import align_performance

TARGET_BEATS = 0.1


def _one(root: Path, row: dict[str, str], scores: dict[str, ScoreData]) -> dict[str, Any]:
    key = row["midi_score"]
    if key not in scores:
        scores[key] = read_score(root / key)
    score = scores[key]
    start = time.process_time()
    aligned = align_performance(read_notes(root / row["midi_performance"]), score)
    cpu = time.process_time() - start
    sn = aligned.score_notes
    dev = np.abs(sn.onset_dev_beats[sn.matched])
    return {
        "performance": row["midi_performance"],
        "n_score_notes": len(sn),
        "match_rate": aligned.n_matched / max(len(sn), 1),
        "extra_rate": aligned.n_extra / max(len(aligned.performed_notes), 1),
        "dev_median": float(np.median(dev)) if dev.size else float("nan"),
        "dev_mean": float(dev.mean()) if dev.size else float("nan"),
        "tempo_std": float(np.nanstd(sn.local_tempo)),
        "flags": list(aligned.flags),
        "cpu_s": cpu,
    }


def main(argv: list[str]) -> int:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", type=Path, default=None, help="the ASAP folder (holding metadata.csv)")
    ap.add_argument("--every", type=int, default=1, help="take every N-th performance (deterministic subset)")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON document here")
    args = ap.parse_args(argv)
    root = args.data_root
    if root is None:
        data = find_data_root(Path(__file__).resolve().parent)
        root = None if data is None else data / "asap"
    if root is None or not (root / "metadata.csv").is_file():
        print(json.dumps({"benchmark": "aligned", "skipped": "ASAP data not found (set PIANO_EVAL_DATA)"}))
        return 0
    with open(root / "metadata.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[:: max(args.every, 1)]
    scores: dict[str, ScoreData] = {}
    results, failed = [], []
    wall = time.perf_counter()
    for i, row in enumerate(rows):
        try:
            results.append(_one(root, row, scores))
        except PianoDataError as exc:
            failed.append({"performance": row["midi_performance"], "error": str(exc)})
        if (i + 1) % 50 == 0:
            print(f"{i + 1}/{len(rows)} performances", file=sys.stderr, flush=True)
    med = np.array([r["dev_median"] for r in results])
    mean = np.array([r["dev_mean"] for r in results])
    doc = {
        "benchmark": "aligned",
        "data_root": str(root),
        "every": args.every,
        "n_performances": len(results),
        "n_failed": len(failed),
        "failed": failed,
        "target_beats": TARGET_BEATS,
        "median_over_performances_of_per_note_median_abs_dev_beats": float(np.nanmedian(med)),
        "median_over_performances_of_per_note_mean_abs_dev_beats": float(np.nanmedian(mean)),
        "share_performances_median_under_target": float(np.mean(med < TARGET_BEATS)),
        "share_performances_mean_under_target": float(np.mean(mean < TARGET_BEATS)),
        "percentiles_of_per_performance_median_10_50_90": np.nanpercentile(med, [10, 50, 90]).round(4).tolist(),
        "median_match_rate": float(np.median([r["match_rate"] for r in results])),
        "median_extra_rate": float(np.median([r["extra_rate"] for r in results])),
        "cpu_s_per_performance_median": float(np.median([r["cpu_s"] for r in results])),
        "wall_s": time.perf_counter() - wall,
        "worst_by_median": sorted(results, key=lambda r: -r["dev_median"])[:10],
    }
    text = json.dumps(doc, indent=1)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(f".{args.out.name}.tmp")
        tmp.write_text(text)
        tmp.replace(args.out)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
