"""Score-alignment benchmark on ASAP: ours vs plain DTW vs parangonar (MIDI), plus transcribed audio.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_align.py \
        [--data-root ../shared/data/asap] [--reference-every 30] [--audio-subset 5] [--excerpt 15] [--every 1]

Prints one JSON document (see benchmarks/alignment.md for the table it produced). Without ASAP it prints a
JSON object saying so. Options: `--help` (benchmarks/align_bench/cli.py).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from piano_data.paths import find_data_root

DEFAULTS = ["--reference-every", "30", "--audio-subset", "5", "--excerpt", "15"]


def main(argv: list[str]) -> int:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import torch

    torch.set_num_threads(1)
    from align_bench.cli import main as bench

    if "--data-root" not in argv:
        root = find_data_root(Path(__file__).resolve().parent)
        if root is None or not (root / "asap" / "metadata.csv").is_file():
            print(json.dumps({"benchmark": "alignment", "skipped": "ASAP data not found (set PIANO_EVAL_DATA)"}))
            return 0
        argv = ["--data-root", str(root / "asap"), *argv]
    given = {a for a in argv if a.startswith("--")}
    extra = [x for k, v in zip(DEFAULTS[::2], DEFAULTS[1::2], strict=True) if k not in given for x in (k, v)]
    return bench([*argv, *extra])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
