"""Align and cache every (performance, score) pair S4 pretrains on: PercePiano segments, ASAP dev, GiantMIDI/MAESTRO.

Run once in the background (``nice``); each pair is cached by content hash under ``cache_root()/aligned`` so the
S4 pretraining corpus (:func:`piano_symbolic.s4.corpus.load_aligned_corpus`) and the features reuse it.

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/s4_align_corpus.py [--sources percepiano,asap,giantmidi]
"""

from __future__ import annotations

import argparse
import time

from piano_data.paths import find_data_root
from piano_symbolic.s4.corpus import corpus_pairs, load_aligned_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default="percepiano,giantmidi,asap")
    parser.add_argument("--max-per-score", type=int, default=None)
    args = parser.parse_args()
    root = find_data_root()
    if root is None:
        raise SystemExit("no data root found")
    t0, c0 = time.time(), time.process_time()
    pairs = corpus_pairs(root, tuple(args.sources.split(",")), args.max_per_score)
    print(f"{len(pairs)} pairs", flush=True)
    items = load_aligned_corpus(pairs, progress=True)
    print(
        f"aligned {len(items)} of {len(pairs)} pairs in {time.time() - t0:.0f} s wall, "
        f"{time.process_time() - c0:.0f} CPU-s",
        flush=True,
    )


if __name__ == "__main__":
    main()
