"""Tables from a `bench_align.py --pieces-log` file, for a range of metadata.csv rows.

    .venv/bin/python benchmarks/align_log_tables.py PIECES.jsonl [--min-row 225] [--max-row 900] \
        [--data-root ../shared/data/asap]

Used for the held-out check in benchmarks/alignment.md: the aligner's defaults were tuned on the rows below 225,
so the rows from 225 on say how it does on performances that were not looked at while tuning. With
--data-root the performances whose annotation squeezes a skipped section (see align_bench.core) get a
table of their own kept out.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from align_bench.core import (
    SQUEEZED_MIN,
    asap_performances,
    markdown_table,
    read_pieces_log,
    squeezed_beats,
    summarize,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("log", type=Path)
    p.add_argument("--min-row", type=int, default=0)
    p.add_argument("--max-row", type=int, default=10**9)
    p.add_argument("--data-root", type=Path, default=None)
    args = p.parse_args()
    done, _ = read_pieces_log(args.log)
    by_row: dict[int, dict] = defaultdict(dict)
    for (row, method), result in done.items():
        if args.min_row <= row <= args.max_row:
            by_row[row][method] = result
    methods = sorted({m for r in by_row.values() for m in r}, key=["ours", "plain-dtw", "parangonar"].index)
    full = [r for r in by_row.values() if all(m in r for m in methods)]
    title = f"rows {args.min_row}-{min(args.max_row, max(by_row, default=0))}"
    print(markdown_table(title, summarize(full, methods)))
    if args.data_root is not None:
        squeezed = {item.index for item in asap_performances(args.data_root) if squeezed_beats(item) >= SQUEEZED_MIN}
        kept = [r for row, r in by_row.items() if row not in squeezed and all(m in r for m in methods)]
        print()
        print(markdown_table(f"{title}, without squeezed annotations", summarize(kept, methods)))


if __name__ == "__main__":
    main()
