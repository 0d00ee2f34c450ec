"""Alignment of student-like performances: ASAP performances perturbed (align_bench.perturb), three aligners.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_align_perturb.py \
        [--data-root ../shared/data/asap] [--count 100] [--kinds wrong,drop,...] [--methods ours,plain-dtw,parangonar] \
        [--pieces-log perturb_pieces.jsonl [--resume]] [--output perturb.json] [--markdown perturb.md]

Selection (deterministic, keeps parangonar affordable): among the ASAP performances whose score and performance
annotations list the same beats, the one with the fewest notes of each score folder (ties: the first in
metadata.csv); of those, the ``--count`` folders whose chosen performance has the fewest notes. Every kind is
applied to every chosen performance (seeded by its path and the kind); each method aligns the perturbed
performance to the whole score; the scored beats are those the perturbed performance plays, at their moved
times. Besides the beat tables per kind (the same as bench_align.py's), it reports for ours: restarts found
(a true restart counts as found when a reported one lies within 1 s of performance time of it; spurious: reported
ones near no true one) and, for ``partial``, whether the reported played span lies within one beat of the true
one at each end. Prints one JSON document; without ASAP a JSON object saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np


def _setup() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def choose(items: list, count: int) -> list:
    """The selection rule of the module doc: per score folder its performance with the fewest notes, then the
    ``count`` folders with the fewest; returned in metadata order."""
    from align_bench.core import load_piece
    from piano_data.errors import PianoDataError

    best: dict[Path, tuple[int, int, Any]] = {}
    for item in items:
        try:
            _, perf, _, _ = load_piece(item)
        except PianoDataError:  # annotations that do not pair up
            continue
        folder = item.score_midi.parent
        key = (len(perf), item.index, item)
        if folder not in best or key[:2] < best[folder][:2]:
            best[folder] = key
    chosen = sorted(best.values(), key=lambda x: (x[0], x[1]))[:count]
    return [x[2] for x in sorted(chosen, key=lambda x: x[1])]


def restart_hits(truth: list, reported: list, window: float = 1.0) -> tuple[int, int]:
    """(true restarts with a reported one within ``window`` s of performance time, reported ones near none)."""
    t = np.array([r[0] for r in truth], dtype=np.float64)
    r = np.array([x[0] for x in reported], dtype=np.float64)
    found = sum(bool(len(r) and np.min(np.abs(r - x)) <= window) for x in t)
    spurious = sum(not (len(t) and np.min(np.abs(t - x)) <= window) for x in r)
    return int(found), int(spurious)


def span_ok(truth: list, tol: list, reported: list | None, score_span: tuple[float, float]) -> bool:
    """Whether the reported played span (None: the whole score) lies within one beat of the truth at both ends."""
    got = score_span if reported is None else reported
    return abs(got[0] - truth[0]) <= tol[0] + 1e-6 and abs(got[1] - truth[1]) <= tol[1] + 1e-6


def run(args: argparse.Namespace) -> dict[str, Any]:
    from align_bench.core import (
        METHODS,
        BeatAnnotations,
        PieceResult,
        asap_performances,
        evaluate_notes,
        load_piece,
        summarize,
        warm_up,
    )
    from align_bench.perturb import KINDS, perturb, seed_for
    from piano_data.errors import PianoDataError
    from tqdm import tqdm

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = sorted(set(kinds) - set(KINDS)) + sorted(set(methods) - set(METHODS))
    if bad:
        raise PianoDataError(None, f"unknown kinds or methods {bad}; kinds: {KINDS}, methods: {sorted(METHODS)}")
    if (args.resume or args.summary_only) and args.pieces_log is None:
        raise PianoDataError(None, "--resume and --summary-only need --pieces-log (the log of an earlier run)")
    items = choose(asap_performances(args.data_root), args.count)
    done: dict[tuple[int, str, str], dict] = {}
    if (args.resume or args.summary_only) and args.pieces_log.is_file():
        for line in args.pieces_log.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a torn last line
                continue
            done[(row["index"], row["kind"], row["method"])] = row
    fh = None if args.pieces_log is None or args.summary_only else args.pieces_log.open("a" if args.resume else "w")
    if fh is not None and args.resume and fh.tell() > 0:
        fh.write("\n")
    warmed = False
    rows: dict[str, list[dict]] = defaultdict(list)
    alone: dict[str, list[dict]] = defaultdict(list)  # --summary-only: every logged line of each method
    try:
        for kind in kinds:
            for item in tqdm(items, desc=kind, unit="piece"):
                have = {m: done[(item.index, kind, m)] for m in methods if (item.index, kind, m) in done}
                todo = [m for m in methods if m not in have]
                for m, line in have.items():
                    alone[f"{kind}/{m}"].append(line)
                if todo and args.summary_only:
                    continue
                if todo:
                    if not warmed:
                        warm_up(methods)
                        warmed = True
                    score, perf, s_ann, p_ann = load_piece(item)
                    key = str(item.performance_midi.relative_to(args.data_root.resolve()))
                    pert = perturb(perf, s_ann.times, p_ann.times, kind, seed_for(key, kind))
                    idx = pert.beat_index
                    s_sel = BeatAnnotations(s_ann.times[idx], s_ann.downbeat[idx], tuple(s_ann.labels[i] for i in idx))
                    p_sel = BeatAnnotations(pert.perf_beats, s_ann.downbeat[idx], s_sel.labels)
                    res = evaluate_notes(score, pert.notes, s_sel, p_sel, todo)
                    for m, r in res.items():
                        line = {
                            "index": item.index, "performance": key, "kind": kind, "method": m, "cpu_s": r.cpu_s,
                            "failed": r.failed, "flags": list(r.flags),
                            "errors_ms": np.round(r.errors * 1000, 3).tolist(),
                            "downbeat": r.downbeat.astype(int).tolist(),
                            "restarts": [list(x) for x in r.restarts],
                            "played_span": None if r.played_span is None else list(r.played_span),
                            "true_restarts": [list(x) for x in pert.restarts],
                            "true_span": None if pert.played_span is None else list(pert.played_span),
                            "span_tolerance": None if pert.span_tolerance is None else list(pert.span_tolerance),
                            "score_span": [float(score.onset.min()), float(score.end_time)],
                        }  # fmt: skip
                        have[m] = line
                        if fh is not None:
                            fh.write(json.dumps(line) + "\n")
                            fh.flush()
                for m in methods:
                    rows[f"{kind}/{m}"].append(have[m])
    finally:
        if fh is not None:
            fh.close()

    def result(line: dict) -> PieceResult:
        return PieceResult(
            np.asarray(line["errors_ms"], dtype=np.float64) / 1000,
            np.asarray(line["downbeat"], dtype=bool),
            float(line["cpu_s"]),
            bool(line["failed"]),
            tuple(line["flags"]),
            tuple((float(a), float(b)) for a, b in line["restarts"]),
            None if line["played_span"] is None else tuple(line["played_span"]),  # type: ignore[arg-type]
        )

    report: dict[str, Any] = {}
    for kind in kinds:
        n = len(rows[f"{kind}/{methods[0]}"])
        per_piece = [{m: result(rows[f"{kind}/{m}"][k]) for m in methods} for k in range(n)]
        entry: dict[str, Any] = {"pieces": n, "methods": summarize(per_piece, methods) if n else {}}
        if args.summary_only:  # each method on every performance it has in the log
            entry["each_method_alone"] = {
                m: {
                    "pieces": len(alone[f"{kind}/{m}"]),
                    **summarize([{m: result(x)} for x in alone[f"{kind}/{m}"]], [m])[m],
                }
                for m in methods
                if alone[f"{kind}/{m}"]
            }
        for m in methods:
            lines = rows[f"{kind}/{m}"]
            if not lines:
                continue
            n_true = sum(len(x["true_restarts"]) for x in lines)
            hits = [restart_hits(x["true_restarts"], x["restarts"]) for x in lines]
            entry["methods"][m].update(
                true_restarts=n_true,
                restarts_found_within_1s=sum(h[0] for h in hits),
                restart_recall=sum(h[0] for h in hits) / n_true if n_true else None,
                spurious_restarts=sum(h[1] for h in hits),
            )
            if kind == "partial":
                ok = [span_ok(x["true_span"], x["span_tolerance"], x["played_span"], x["score_span"]) for x in lines]
                entry["methods"][m]["played_span_within_one_beat"] = float(np.mean(ok)) if ok else None
                entry["methods"][m]["exit_low_confidence"] = sum("low_confidence" in x["flags"] for x in lines)
        report[kind] = entry
    return {
        "benchmark": "ASAP alignment of perturbed (student-like) performances, beat level",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "selection": {
            "rule": "per score folder the performance with the fewest notes; the --count folders with the fewest",
            "count": len(items),
            "performances": [str(i.performance_midi.relative_to(args.data_root.resolve())) for i in items],
        },
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": 1},
        "kinds": report,
    }


def markdown(report: dict[str, Any]) -> str:
    """Per kind the beat table of bench_align.py, then ours' restarts and played spans."""
    from align_bench.core import markdown_table

    parts = [f"Command: `{report['command']}`"]
    for kind, entry in report["kinds"].items():
        if entry["methods"]:
            parts.append(markdown_table(f"{kind}, same performances ({entry['pieces']})", entry["methods"]))
        if entry.get("each_method_alone"):
            alone = {m: s for m, s in entry["each_method_alone"].items()}
            parts.append(markdown_table(f"{kind}, each method on all it ran", alone))
    lines = [
        "| kind | method | true restarts | found within 1 s | recall | spurious restarts | played span within "
        "one beat | exit low_confidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, entry in report["kinds"].items():
        for m, s in entry["methods"].items():
            if "true_restarts" not in s:
                continue
            recall = "" if s["restart_recall"] is None else f"{100 * s['restart_recall']:.1f}%"
            span = s.get("played_span_within_one_beat")
            span_txt = "" if span is None else f"{100 * span:.1f}%"
            low = s.get("exit_low_confidence", "")
            row = [kind, m, s["true_restarts"], s["restarts_found_within_1s"], recall, s["spurious_restarts"]]
            lines.append("| " + " | ".join(str(x) for x in [*row, span_txt, low]) + " |")
    parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    _setup()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from piano_data.atomic import write_text_atomic
    from piano_data.errors import PianoDataError
    from piano_data.paths import find_data_root

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=None, help="the ASAP folder (holds metadata.csv)")
    p.add_argument("--count", type=int, default=100, help="performances (see the selection rule)")
    p.add_argument("--kinds", default="wrong,drop,extra,restart,partial,student")
    p.add_argument("--methods", default="ours,plain-dtw,parangonar")
    p.add_argument("--pieces-log", type=Path, default=None, help="per (performance, kind, method) JSON lines")
    p.add_argument("--resume", action="store_true", help="reuse the lines of --pieces-log, run only what is missing")
    p.add_argument(
        "--summary-only", action="store_true", help="run nothing: tables from the lines already in --pieces-log"
    )
    p.add_argument("--output", type=Path, default=None)
    p.add_argument("--markdown", type=Path, default=None)
    args = p.parse_args(argv)
    if args.data_root is None:
        root = find_data_root(Path(__file__).resolve().parent)
        if root is None or not (root / "asap" / "metadata.csv").is_file():
            print(json.dumps({"benchmark": "alignment_perturbed", "skipped": "ASAP data not found"}))
            return 0
        args.data_root = root / "asap"
    args.data_root = args.data_root.resolve()
    started = time.time()
    try:
        report = run(args)
    except PianoDataError as exc:
        print(f"bench_align_perturb.py: error: {exc}", file=sys.stderr)
        return 2
    report["wall_s"] = round(time.time() - started, 1)
    text = json.dumps(report, indent=2)
    if args.output is not None:
        write_text_atomic(args.output, text + "\n")
    if args.markdown is not None:
        write_text_atomic(args.markdown, markdown(report))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
