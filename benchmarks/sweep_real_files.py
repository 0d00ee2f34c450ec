"""Every real MIDI and MusicXML file under the data root through read, features, tokenization and (capped)
alignment; counts files, clean refusals (PianoDataError) and crashes (any other exception). Prints JSON and,
with ``--md``, appends one line to that Markdown file.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/sweep_real_files.py --max-pairs 200 \
        --md benchmarks/robustness_sweep.md

A crash names the file, the stage and the exception so that it can be reproduced.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piano_data.difficulty import musicxml_notes
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes
from piano_data.paths import find_data_root
from piano_eval.provenance import git_commit
from piano_symbolic.align import align_notes
from piano_symbolic.features import extract_features
from piano_symbolic.tokenizer import RemiTokenizer

DATASETS = ("percepiano", "asap", "giantmidi_subset", "maestro_subset", "mikrokosmos_difficulty")
MIDI = (".mid", ".midi")
XML = (".musicxml", ".mxl", ".xml")


class Tally:
    """Counts per stage; with ``log``, one JSON line per (stage, file) is appended as it goes, so an interrupted
    sweep keeps its counts and a rerun with the same log resumes where it stopped."""

    def __init__(self, log: Path | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self.crashes: list[dict[str, str]] = []
        self.log = log
        self.done: dict[tuple[str, str], dict[str, str]] = {}
        if log is not None and log.is_file():
            for line in log.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # a line torn by a kill
                    continue
                self.done[(row["stage"], row["file"])] = row

    def _record(self, stage: str, path: Path, outcome: str, crash: dict[str, str] | None = None) -> None:
        self.counts[f"{stage}:{outcome}"] += 1
        if crash is not None:
            self.crashes.append(crash)
        if self.log is not None and (stage, str(path)) not in self.done:
            with self.log.open("a") as fh:
                fh.write(json.dumps({"stage": stage, "file": str(path), "outcome": outcome, **(crash or {})}) + "\n")

    def run(self, stage: str, path: Path, fn: Callable[[], Any], needs_value: bool = False) -> Any:
        self.counts[f"{stage}:files"] += 1
        prior = self.done.get((stage, str(path)))
        if prior is not None and not needs_value:
            self._record(stage, path, prior["outcome"], prior if prior["outcome"] == "crashed" else None)
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn()
        except PianoDataError:
            self._record(stage, path, "refused")
            return None
        except Exception as exc:  # a crash: what this sweep is looking for
            last = traceback.extract_tb(exc.__traceback__)[-1]
            crash = {
                "stage": stage,
                "file": str(path),
                "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300],
                "where": f"{Path(last.filename).name}:{last.lineno}",
            }
            self._record(stage, path, "crashed", crash)
            return None
        self._record(stage, path, "ok")
        return out


def _files(root: Path, exts: tuple[str, ...]) -> list[Path]:
    return sorted(p for d in DATASETS if (root / d).is_dir() for p in (root / d).rglob("*") if p.suffix.lower() in exts)


def _pairs(root: Path) -> list[tuple[Path, Path]]:
    """(performance MIDI, score MIDI) pairs: ASAP (metadata.csv) and PercePiano (score_midi per segment)."""
    import csv

    pairs: list[tuple[Path, Path]] = []
    meta = root / "asap" / "metadata.csv"
    if meta.is_file():
        with meta.open() as fh:
            for row in csv.DictReader(fh):
                perf, score = root / "asap" / row["midi_performance"], root / "asap" / row["midi_score"]
                if perf.is_file() and score.is_file():
                    pairs.append((perf, score))
    scores = root / "percepiano" / "midi" / "score_midi"
    for perf in sorted((root / "percepiano" / "midi" / "all_2rounds").glob("*.mid")):
        parts = perf.stem.strip().split("_")  # <piece>_<N>bars_<player>_<segment>
        score = scores / f"{'_'.join(parts[:-2])}_Score_{parts[-1]}.mid"
        if len(parts) > 2 and score.is_file():
            pairs.append((perf, score))
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--max-pairs", type=int, default=200, help="alignment pairs (about 0.25 s each), spread evenly")
    ap.add_argument("--max-files", type=int, default=None, help="cap per kind, for a quick look")
    ap.add_argument("--stride", type=int, default=1, help="every k-th file of each kind (1: all)")
    ap.add_argument("--log", type=Path, default=None, help="JSON lines per (stage, file); a rerun resumes from it")
    ap.add_argument("--md", type=Path, default=None, help="append the summary line to this Markdown file")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    root = args.data_root or find_data_root()
    if root is None:
        raise SystemExit("no data root (pass --data-root or set PIANO_EVAL_DATA)")
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    tally = Tally(args.log)
    tok = RemiTokenizer()
    midi_files = _files(root, MIDI)[:: args.stride][: args.max_files]
    for path in midi_files:
        resumed = all(tally.done.get((s, str(path))) for s in ("read_midi", "features", "tokenize"))
        notes: NoteArray | None = tally.run("read_midi", path, lambda p=path: read_notes(p), needs_value=not resumed)
        if notes is None and not resumed:
            continue
        tally.run("features", path, lambda n=notes: extract_features(n))
        tally.run("tokenize", path, lambda n=notes: tok.encode_notes(n))
    xml_files = _files(root, XML)[:: args.stride][: args.max_files]
    for path in xml_files:
        resumed = all(tally.done.get((s, str(path))) for s in ("read_musicxml", "features"))
        notes = tally.run("read_musicxml", path, lambda p=path: musicxml_notes(p), needs_value=not resumed)
        if notes is not None or resumed:
            tally.run("features", path, lambda n=notes: extract_features(n))
    pairs = _pairs(root)
    step = max(1, len(pairs) // max(1, args.max_pairs))
    for perf, score in pairs[::step][: args.max_pairs]:
        tally.run("align", perf, lambda p=perf, s=score: align_notes(read_notes(s), read_notes(p)))
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    crashed = sum(v for k, v in tally.counts.items() if k.endswith(":crashed"))
    doc = {
        "data_root": str(root),
        "git_commit": git_commit(),
        "stride": args.stride,
        "midi_files": len(midi_files),
        "musicxml_files": len(xml_files),
        "align_pairs": min(len(pairs[::step]), args.max_pairs),
        "align_pairs_available": len(pairs),
        "counts": dict(sorted(tally.counts.items())),
        "crashes": len(tally.crashes),
        "crash_examples": tally.crashes[:30],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
    }
    print(json.dumps(doc, indent=1))
    if args.md is not None:
        c = tally.counts
        line = (
            f"| {datetime.now(UTC):%Y-%m-%d} | {str(doc['git_commit'])[:9]} | 1/{args.stride} | {len(midi_files)} MIDI "
            f"(read ok {c['read_midi:ok']}, refused {c['read_midi:refused']}) | {len(xml_files)} MusicXML "
            f"(ok {c['read_musicxml:ok']}, refused {c['read_musicxml:refused']}) | features {c['features:ok']} ok | "
            f"tokenize {c['tokenize:ok']} ok | align {c['align:ok']}/{c['align:files']} ok | **{crashed} crashes** "
            f"| {cpu / 60:.1f} CPU-min |\n"
        )
        with args.md.open("a") as fh:
            fh.write(line)


if __name__ == "__main__":
    main()
