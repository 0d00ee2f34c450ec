"""``piano-eval score`` as a practice tool: start-up and scoring CPU, bar feedback against injected mistakes.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_score.py \
        [--data-root ../shared/data/asap] [--count 50] [--output score.json] [--markdown score_tables.md]

1. CPU from process start (user + system of the child process, median of 3 runs after one warm-up run, Python
   bytecode cached as in any installed package): ``piano-eval --help``; ``piano-eval score`` of a 30 s excerpt
   of an ASAP performance with the matching excerpt of its score MIDI; of a whole performance of about 5 min.
2. Feedback correctness on ``--count`` ASAP performances (selection below): in about one bar in ten (never two
   neighbours, bars from the performance's own downbeat annotations) one mistake is injected with the
   perturbation code of the alignment benchmark (``benchmarks/align_bench/perturb.py``, seeded by file): a
   wrong note (1-2 semitones), a dropped note, or an extra note (a copy 1-7 semitones away, up to 0.3 s off),
   in turn. A reported bar counts as flagged when it lists missed, extra or wrong notes. Recall: injected
   mistakes inside a flagged bar (its performance span, 50 ms slack); precision: flagged bars holding an
   injected mistake. Also the same with bars already flagged in the clean performance left out ("new flags"),
   and the share of played bars flagged in the clean performances. Rules: ``>=1`` (the tool's flag) and
   ``>=2`` errors in a bar.
   Per piece and for the performances with and without references (``--references N``: up to N other ASAP
   performances of the same score given as reference performances), the same at the tool's threshold, and the
   share of clean bars with a rushing/dragging remark.
   The confidence curve: the same with the flag threshold on the bars' departure confidence (``confidence.py``;
   0 = every departure flags, as before the confidence rules; the tool's default is ``min_confidence``).
   The beat check (``beat_check``; performances whose two annotation files list the same beats): the
   departures each take shows against the score through the human beat annotations alone, without the
   project's aligner (score and performed notes of one pitch paired within ``--beat-tolerance`` beats of where
   the annotated beats put the score note). A flagged bar is *confirmed* when every missed, wrong and extra
   note it lists is such a departure (pitch names, the bar's score span widened by a beat each side); the
   control checks the same notes against the played bar four places later. Reported: the share of clean
   flags confirmed (and the control's), the share of clean bars with an unconfirmed flag, the precision of
   the perturbed takes' flags when a confirmed departure counts as right as well as an injected mistake, the
   injected mistakes the check itself sees, and what the tool says of the clean bars the check finds
   departing (flagged, only "not sure", only ornaments/variants, nothing).
3. Windows of the clean performances: share of their features outside the training 1st-99th percentiles.

Selection: ASAP performances whose score and performance annotations pair up, one per score folder (the first
in metadata.csv), at most 6 minutes long, skipping the 10 folders looked at while setting the analysis
thresholds (metadata rows 0, 90, ..., 810); every second remaining folder, in metadata order, up to
``--count``. ``--tuning-set`` takes the other half of the remaining folders instead (never the evaluation's):
the later rules (held repeated notes, same-pitch timing pairs, brushed keys) were set on its first 12.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
TUNING_ROWS = range(0, 900, 90)  # rows looked at while choosing the thresholds (variant window, ornaments)
BEAT_TOLERANCE = 0.35  # beats: the beat check's pairing window (see beat_check)
SUBSETS = {  # per-piece rows summed for these subsets of the performances
    "all": lambda row: True,
    "with_references": lambda row: row["references"] > 0,
    "without_references": lambda row: row["references"] == 0,
}


def _setup() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def child_cpu(cmd: list[str]) -> float:
    """User + system CPU seconds of one run of ``cmd`` (from process start to exit)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(cmd: list[str], runs: int = 3) -> dict[str, Any]:
    child_cpu(cmd)  # warm-up: bytecode and numba caches written
    values = [child_cpu(cmd) for _ in range(runs)]
    return {"command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)), "cpu_s": values,
            "median_cpu_s": round(statistics.median(values), 3)}  # fmt: skip


def excerpt(item: Any, seconds: float, folder: Path) -> tuple[Path, Path]:
    """The first ``seconds`` of a performance and the matching part of its score MIDI (clipped in ticks)."""
    import symusic
    from piano_data.midi import read_notes, write_notes
    from piano_data.tiers.asap import read_beat_annotations

    perf = read_notes(item.midi_path)
    p_beats = read_beat_annotations(item.annotations_path).times
    s_beats = read_beat_annotations(item.score_annotations_path).times
    cut_s = float(np.interp(seconds, p_beats, s_beats))
    keep = perf.onset < seconds
    from piano_eval.practice.analysis import _subset

    perf_path = write_notes(_subset(perf, keep), folder / "perf30.mid")
    ticks = symusic.Score(str(item.score_midi_path))
    secs = ticks.to("second")
    end_tick = ticks.end()
    for tt, ts in zip(ticks.tracks, secs.tracks, strict=True):  # tick of the first score note at or after the cut
        t_on = tt.notes.numpy()["time"]
        s_on = ts.notes.numpy()["time"]
        after = t_on[s_on >= cut_s]
        if len(after):
            end_tick = min(end_tick, int(after.min()))
    score_path = folder / "score30.mid"
    ticks.clip(0, end_tick, clip_end=True).dump_midi(str(score_path))
    return perf_path, score_path


def select(items: list[Any], count: int, max_minutes: float = 6.0, tuning_set: bool = False) -> list[Any]:
    from piano_data.midi import read_notes

    tuning = {it.score_midi_path.parent for it in items if int(it.extra.get("row", -1)) in TUNING_ROWS}
    firsts: dict[Path, Any] = {}
    for it in items:
        folder = it.score_midi_path.parent
        if folder in tuning or folder in firsts or not it.annotations_path or not it.score_annotations_path:
            continue
        firsts[folder] = it
    chosen = []
    for it in list(firsts.values())[1::2] if tuning_set else list(firsts.values())[::2]:
        notes = read_notes(it.midi_path)
        if notes.end_time <= 60 * max_minutes:
            chosen.append(it)
        if len(chosen) == count:
            break
    return chosen


def inject(notes: Any, downbeats: np.ndarray, key: str) -> tuple[Any, list[tuple[float, str]]]:
    """One mistake in about one bar in ten (never neighbours), kinds in turn; the truth as (time, kind)."""
    from align_bench.perturb import drop_notes, extra_notes, seed_for, wrong_notes
    from piano_data.midi import NoteArray

    rng = np.random.default_rng(seed_for(key, "bars"))
    edges = np.append(downbeats, np.inf)
    bars = [b for b in range(len(downbeats)) if ((notes.onset >= edges[b]) & (notes.onset < edges[b + 1])).sum() >= 4]
    chosen: list[int] = []
    for b in rng.permutation(bars):
        if len(chosen) >= max(3, len(bars) // 10):
            break
        if all(abs(int(b) - c) > 1 for c in chosen):
            chosen.append(int(b))
    keep = np.ones(len(notes), dtype=bool)
    pitch = notes.pitch.copy()
    added: list[tuple[float, float, int, int]] = []
    truth: list[tuple[float, str]] = []
    for k, b in enumerate(sorted(chosen)):
        idx = np.flatnonzero((notes.onset >= edges[b]) & (notes.onset < edges[b + 1]))
        j = int(rng.choice(idx))
        one = NoteArray.from_arrays(notes.onset[[j]], notes.offset[[j]], notes.pitch[[j]], notes.velocity[[j]])
        kind = ("wrong", "drop", "extra")[k % 3]
        if kind == "wrong":
            pitch[j] = int(wrong_notes(one, rng, 1.0).pitch[0])
            truth.append((float(notes.onset[j]), kind))
        elif kind == "drop":
            keep[j] = False
            drop_notes(one, rng, 1.0)  # same generator use as the benchmark's
            truth.append((float(notes.onset[j]), kind))
        else:
            both = extra_notes(one, rng, 1.0)
            new = [i for i in range(len(both)) if not (both.onset[i] == one.onset[0] and both.pitch[i] == one.pitch[0])]
            i = new[0] if new else 1
            added.append((float(both.onset[i]), float(both.offset[i]), int(both.pitch[i]), int(both.velocity[i])))
            truth.append((float(both.onset[i]), kind))
    on = np.concatenate([notes.onset[keep], [a[0] for a in added]])
    off = np.concatenate([notes.offset[keep], [a[1] for a in added]])
    pit = np.concatenate([pitch[keep], [a[2] for a in added]])
    vel = np.concatenate([notes.velocity[keep], [a[3] for a in added]])
    return NoteArray.from_arrays(on, off, pit, vel, notes.pedal, notes.source), truth


def _bars(report: Any) -> list[tuple[int, float, float, int]]:
    return [(b.index, b.start_s, b.end_s, b.n_errors) for b in report.played_bars if b.start_s is not None]


def _tempo_remarked(bar: Any) -> bool:
    """The bar has a rushing or dragging remark."""
    return any(r.startswith(("rushing", "dragging")) for r in bar.remarks)


def _sure(bar: Any, level: float) -> bool:
    """The bar would be flagged with the confidence threshold at ``level`` (its departures' highest confidence)."""
    return bar.confidence is not None and bar.confidence >= level - 1e-9


def beat_check(
    perf: Any, score: Any, perf_beats: np.ndarray, score_beats: np.ndarray, tol_beats: float = BEAT_TOLERANCE
) -> dict[str, np.ndarray]:  # fmt: skip
    """Departures of ``perf`` from ``score`` that the human beat annotations show, without the project's aligner.

    The annotated beats map score time to performance time (linear between beats). Per pitch, score notes and
    performed notes are paired one to one, nearest first, when the performed onset lies within ``tol_beats``
    (of the local annotated beat) of where the map puts the score note. ``missing``: score notes inside the
    annotated span left without a performed note of their pitch there; ``unmatched``: performed notes inside it
    left without a score note; ``perf_score_time``: each performed note's score time through the inverse map."""
    s = score.notes
    inside_s = (s.onset >= score_beats[0] - 1e-6) & (s.onset <= score_beats[-1] + 1e-6)
    inside_p = (perf.onset >= perf_beats[0] - 0.05) & (perf.onset <= perf_beats[-1] + 0.05)
    expected = np.interp(s.onset, score_beats, perf_beats)
    k = np.clip(np.searchsorted(score_beats, s.onset, side="right") - 1, 0, len(score_beats) - 2)
    beat = np.maximum(np.diff(perf_beats)[k], 1e-3)
    pairs: list[tuple[float, int, int]] = []
    for pitch in np.unique(s.pitch[inside_s]):
        si = np.flatnonzero(inside_s & (s.pitch == pitch))
        pj = np.flatnonzero(inside_p & (perf.pitch == pitch))
        if len(pj):
            d = np.abs(perf.onset[pj][None, :] - expected[si][:, None]) / beat[si][:, None]
            a, c = np.nonzero(d <= tol_beats)
            pairs += [(float(d[x, y]), int(si[x]), int(pj[y])) for x, y in zip(a, c, strict=True)]
    used_s, used_p = np.zeros(len(s.onset), bool), np.zeros(len(perf.onset), bool)
    for _, i, j in sorted(pairs):
        if not used_s[i] and not used_p[j]:
            used_s[i] = used_p[j] = True
    return {"missing": inside_s & ~used_s, "unmatched": inside_p & ~used_p, "expected": expected,
            "perf_score_time": np.interp(perf.onset, perf_beats, score_beats)}  # fmt: skip


def _checked_notes(bar: Any, check: dict[str, np.ndarray], perf: Any, score: Any, widen: bool) -> tuple[set, set]:
    """Pitch names of the beat check's missing score notes and unmatched performed notes in the bar's score span,
    widened by a beat on each side with ``widen``."""
    from piano_eval.practice.report import pitch_name

    lo, hi = bar.score_start, bar.score_end
    if widen:
        beats = score.beat_times
        lo = beats[max(int(np.searchsorted(beats, lo, side="right")) - 2, 0)]
        hi = beats[min(int(np.searchsorted(beats, hi - 1e-9)) + 1, len(beats) - 1)]
    s_on, t_p = score.notes.onset, check["perf_score_time"]
    gone = {pitch_name(p) for p in score.notes.pitch[check["missing"] & (s_on >= lo) & (s_on < hi)]}
    added = {pitch_name(p) for p in perf.pitch[check["unmatched"] & (t_p >= lo) & (t_p < hi)]}
    return gone, added


def confirmed(bar: Any, check: dict[str, np.ndarray], perf: Any, score: Any) -> bool:
    """Every missed, wrong and extra note the bar lists is a departure the beat check shows too: a missed note
    (or a wrong note's expected pitch) among the check's missing score notes of that pitch, an extra note among
    its unmatched performed notes of that pitch, within the bar's score span widened by a beat on each side."""
    gone, added = _checked_notes(bar, check, perf, score, widen=True)
    return (all(m in gone for m in bar.missed) and all(w["expected"] in gone for w in bar.wrong)
            and all(x in added for x in bar.extra))  # fmt: skip


def _model_and_config(overrides: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    """The shipped default model, its window scorer and the analysis thresholds with ``overrides``."""
    from piano_eval.practice.model import load_feature_model
    from piano_eval.practice.report import AnalysisConfig
    from piano_eval.practice.scorers import FeatureModelScorer

    model = load_feature_model()
    return model, FeatureModelScorer(model), AnalysisConfig(**(overrides or {}))


def references_of(item: Any, items: list[Any], limit: int) -> list[Path]:
    """Up to ``limit`` other performances of ``item``'s score (same ASAP score folder, metadata order)."""
    folder = item.score_midi_path.parent
    others = [it.midi_path for it in items if it.score_midi_path.parent == folder and it.midi_path != item.midi_path]
    return others[:limit]


def evaluate(
    items: list[Any], root: Path, overrides: dict[str, Any] | None = None, *, all_items: list[Any] | None = None,
    n_references: int = 0, beat_tolerance: float = BEAT_TOLERANCE,
) -> dict[str, Any]:  # fmt: skip
    from piano_data.midi import read_notes
    from piano_data.score import read_score
    from piano_data.tiers.asap import read_beat_annotations
    from piano_eval.practice.analysis import analyse
    from piano_eval.practice.references import reference_departures

    model, scorer, cfg = _model_and_config(overrides)
    slack = 0.05
    rules = {">=1": 1, ">=2": 2}
    agg: dict[str, dict[str, float]] = {r: {"hit": 0, "n_truth": 0, "tp": 0, "flagged": 0, "tp_new": 0, "new": 0,
                                            "clean_flagged": 0, "clean_played": 0} for r in rules}  # fmt: skip
    per_kind = {k: [0, 0] for k in ("wrong", "drop", "extra")}
    levels = (0.0, 0.2, 0.3, 0.35, 0.5, 0.7)  # flag a bar when its most confident departure reaches this
    curve = {th: {"hit": 0, "tp": 0, "flagged": 0, "clean_flagged": 0} for th in levels}
    outside: list[float] = []
    pieces = []
    cpu0 = time.process_time()
    for it in items:
        score = read_score(it.score_midi_path)
        clean = read_notes(it.midi_path)
        ann = read_beat_annotations(it.annotations_path)
        downbeats = ann.times[ann.downbeat]
        key = str(it.midi_path.relative_to(root))
        dirty, truth = inject(clean, downbeats, key)
        kw: dict[str, Any] = {"cfg": cfg, "window_bars": model.window_bars, "window_seconds": model.window_seconds}
        ref_paths = references_of(it, all_items or items, n_references) if n_references > 0 else []
        if ref_paths:  # aligned once (cached), used for the clean and the perturbed take
            kw["references"] = reference_departures([read_notes(p) for p in ref_paths], score, cfg, cache=True)
        rep_clean = analyse(clean, score, scorer, **kw)
        rep = analyse(dirty, score, scorer, **kw)
        outside += [w.outside_share for w in rep_clean.windows if w.outside_share is not None]
        row: dict[str, Any] = {"performance": key, "bars": len(score.bar_times), "injected": len(truth),
                               "trusted": rep.trusted and rep_clean.trusted, "references": len(ref_paths)}  # fmt: skip
        clean_bars = {i: e for i, _, _, e in _bars(rep_clean)}
        clean_played = [b for b in rep_clean.played_bars if b.start_s is not None]
        for th, c in curve.items():
            sure = [(b.start_s, b.end_s) for b in rep.played_bars if b.start_s is not None and _sure(b, th)]
            counts = {
                "hit": sum(any(s - slack <= t < e + slack for s, e in sure) for t, _ in truth),
                "tp": sum(any(s - slack <= t < e + slack for t, _ in truth) for s, e in sure),
                "flagged": len(sure),
                "clean_flagged": sum(_sure(b, th) for b in clean_played),
            }
            for k, v in counts.items():
                c[k] += v
            if abs(th - cfg.min_confidence) < 1e-9:  # the tool's flag, per piece (for subsets such as with references)
                row["default_counts"] = {**counts, "n_truth": len(truth), "clean_played": len(clean_played),
                                         "clean_tempo_remarks": sum(map(_tempo_remarked, clean_played))}  # fmt: skip
        for rule, k in rules.items():
            flagged = [(i, s, e) for i, s, e, n in _bars(rep) if n >= k]
            base = {i for i, e in clean_bars.items() if e >= k}
            hits = [any(s - slack <= t < e + slack for _, s, e in flagged) for t, _ in truth]
            tp = [any(s - slack <= t < e + slack for t, _ in truth) for _, s, e in flagged]
            new = [(i, s, e) for i, s, e in flagged if i not in base]
            tp_new = [any(s - slack <= t < e + slack for t, _ in truth) for _, s, e in new]
            a = agg[rule]
            a["hit"] += sum(hits)
            a["n_truth"] += len(truth)
            a["tp"] += sum(tp)
            a["flagged"] += len(flagged)
            a["tp_new"] += sum(tp_new)
            a["new"] += len(new)
            a["clean_flagged"] += len(base)
            a["clean_played"] += len(clean_bars)
            row[f"clean_flagged_share_{rule}"] = round(len(base) / max(len(clean_bars), 1), 3)
            row[f"recall_{rule}"] = round(sum(hits) / max(len(truth), 1), 3)
            if rule == ">=1":
                for (_, kind), h in zip(truth, hits, strict=True):
                    per_kind[kind][0] += int(h)
                    per_kind[kind][1] += 1
        s_beats = read_beat_annotations(it.score_annotations_path).times
        if len(s_beats) == len(ann.times) >= 2:  # the beat check: departures the annotations show (no aligner)
            chk_clean = beat_check(clean, score, ann.times, s_beats, beat_tolerance)
            chk = beat_check(dirty, score, ann.times, s_beats, beat_tolerance)
            flagged_clean = [b for b in clean_played if b.flagged]
            flagged = [b for b in rep.played_bars if b.start_s is not None and b.flagged]
            gone_t = chk["expected"][chk["missing"]]
            added_t = dirty.onset[chk["unmatched"]]
            near = np.concatenate([gone_t, added_t])
            dep = [b for b in clean_played if any(_checked_notes(b, chk_clean, clean, score, widen=False))]
            row["beat_check"] = {
                "clean_played": len(clean_played),
                "clean_departure_bars": len(dep),  # and what the tool says of them:
                "clean_departure_bars_flagged": sum(b.flagged for b in dep),
                "clean_departure_bars_only_unsure": sum(not b.flagged and bool(b.unsure) for b in dep),
                "clean_departure_bars_only_ornaments": sum(not b.flagged and not b.unsure and b.ornaments > 0
                                                           for b in dep),
                "clean_departure_bars_silent": sum(not b.flagged and not b.unsure and not b.ornaments for b in dep),
                "clean_flagged": len(flagged_clean),
                "clean_flagged_confirmed": sum(confirmed(b, chk_clean, clean, score) for b in flagged_clean),
                # control: each flagged bar's notes checked against the played bar four places later (wrapped)
                "clean_flagged_confirmed_control": sum(
                    confirmed(dataclasses.replace(b, score_start=o.score_start, score_end=o.score_end), chk_clean,
                              clean, score)
                    for b, o in ((b, clean_played[(k + 4) % len(clean_played)])
                                 for k, b in enumerate(clean_played) if b.flagged)),
                "flagged": len(flagged),
                "flagged_right": sum(
                    any(b.start_s - slack <= t < b.end_s + slack for t, _ in truth) or confirmed(b, chk, dirty, score)
                    for b in flagged),
                "n_truth": len(truth),
                "truth_seen": sum(bool(len(near)) and bool(np.min(np.abs(near - t)) <= 0.2) for t, _ in truth),
            }  # fmt: skip
        pieces.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    out: dict[str, Any] = {"performances": len(items), "analysis_cpu_s": round(time.process_time() - cpu0, 1)}
    for rule, a in agg.items():
        out[rule] = {
            "recall": round(a["hit"] / max(a["n_truth"], 1), 3),
            "precision": round(a["tp"] / max(a["flagged"], 1), 3),
            "precision_new_flags": round(a["tp_new"] / max(a["new"], 1), 3),
            "recall_of": int(a["n_truth"]),
            "flagged_bars": int(a["flagged"]),
            "clean_flagged_share": round(a["clean_flagged"] / max(a["clean_played"], 1), 3),
            "clean_played_bars": int(a["clean_played"]),
        }
    n_truth, n_clean = agg[">=1"]["n_truth"], agg[">=1"]["clean_played"]
    out["confidence_curve"] = [
        {"min_confidence": th, "recall": round(c["hit"] / max(n_truth, 1), 3),
         "precision": round(c["tp"] / max(c["flagged"], 1), 3),
         "clean_flagged_share": round(c["clean_flagged"] / max(n_clean, 1), 3)}
        for th, c in curve.items()
    ]  # fmt: skip
    out["recall_by_kind_>=1"] = {k: round(h / max(n, 1), 3) for k, (h, n) in per_kind.items()}
    for name in ("with_references", "without_references"):
        keep = SUBSETS[name]
        rows = [r["default_counts"] for r in pieces if keep(r) and "default_counts" in r]
        keys = ("hit", "n_truth", "tp", "flagged", "clean_flagged", "clean_played", "clean_tempo_remarks")
        tot = {k: sum(r[k] for r in rows) for k in keys}
        out[f"default_{name}"] = {
            "performances": len(rows),
            "recall": round(tot["hit"] / max(tot["n_truth"], 1), 3),
            "precision": round(tot["tp"] / max(tot["flagged"], 1), 3),
            "clean_flagged_share": round(tot["clean_flagged"] / max(tot["clean_played"], 1), 3),
            "clean_tempo_remark_share": round(tot["clean_tempo_remarks"] / max(tot["clean_played"], 1), 3),
            **tot,
        }
    for name, keep in SUBSETS.items():
        rows = [r["beat_check"] for r in pieces if keep(r) and "beat_check" in r]
        tot = {k: sum(r[k] for r in rows) for k in (rows[0] if rows else {})}
        if not rows:
            continue
        out[f"beat_check_{name}"] = {
            "performances": len(rows),
            "tolerance_beats": beat_tolerance,
            "clean_bars_with_a_departure_share": round(tot["clean_departure_bars"] / max(tot["clean_played"], 1), 3),
            "clean_flagged_share": round(tot["clean_flagged"] / max(tot["clean_played"], 1), 3),
            "clean_flags_confirmed_share": round(tot["clean_flagged_confirmed"] / max(tot["clean_flagged"], 1), 3),
            "control_confirmed_share": round(tot["clean_flagged_confirmed_control"] / max(tot["clean_flagged"], 1), 3),
            "clean_unconfirmed_flag_share": round(
                (tot["clean_flagged"] - tot["clean_flagged_confirmed"]) / max(tot["clean_played"], 1), 4),
            "precision_injected_or_confirmed": round(tot["flagged_right"] / max(tot["flagged"], 1), 3),
            "injected_seen_by_the_check": round(tot["truth_seen"] / max(tot["n_truth"], 1), 3),
            **tot,
        }  # fmt: skip
    arr = np.asarray(outside)
    out["windows"] = {
        "n": len(arr),
        "mean_share_of_features_outside_p1_p99": round(float(arr.mean()), 3) if len(arr) else None,
        "share_of_windows_with_any_feature_outside": round(float((arr > 0).mean()), 3) if len(arr) else None,
        "share_of_windows_with_over_20pct_outside": round(float((arr > 0.2).mean()), 3) if len(arr) else None,
    }
    out["pieces"] = pieces
    return out


def slow_span(notes: Any, start: float, end: float, factor: float) -> Any:
    """The performance with the seconds [start, end) played ``factor`` times slower (later notes shifted)."""
    from piano_data.midi import NoteArray

    def warp(t: np.ndarray) -> np.ndarray:
        inside = start + factor * (t - start)
        return np.where(t < start, t, np.where(t < end, inside, t + (factor - 1) * (end - start)))

    return NoteArray.from_arrays(warp(notes.onset), warp(notes.offset), notes.pitch, notes.velocity, notes.pedal,
                                 notes.source)  # fmt: skip


def tempo_check(
    items: list[Any], root: Path, all_items: list[Any], n_references: int, overrides: dict[str, Any] | None = None,
    factor: float = 1.3,
) -> dict:  # fmt: skip
    """Dragging found where it was made: in each performance that has references, three bars (seeded, never
    neighbours, from its downbeat annotations) are in turn played ``factor`` times slower; a bar counts as found
    when the reported bar holding the middle of the slowed span has a "dragging" remark. With and without the
    references, plus the clean takes' bars with a rushing/dragging remark."""
    from align_bench.perturb import seed_for
    from piano_data.midi import read_notes
    from piano_data.score import read_score
    from piano_data.tiers.asap import read_beat_annotations
    from piano_eval.practice.analysis import analyse
    from piano_eval.practice.references import reference_departures

    model, scorer, cfg = _model_and_config(overrides)
    found = {"without": 0, "with": 0}
    clean = {"without": 0, "with": 0}
    n_slowed = n_played = n_pieces = 0
    for it in items:
        ref_paths = references_of(it, all_items, n_references)
        if not ref_paths:
            continue
        n_pieces += 1
        score = read_score(it.score_midi_path)
        perf = read_notes(it.midi_path)
        refs = reference_departures([read_notes(p) for p in ref_paths], score, cfg, cache=True)
        ann = read_beat_annotations(it.annotations_path)
        down = ann.times[ann.downbeat]
        rng = np.random.default_rng(seed_for(str(it.midi_path.relative_to(root)), "tempo"))
        bars: list[int] = []
        for b in rng.permutation(np.arange(2, len(down) - 3)):
            if len(bars) == 3:
                break
            if all(abs(int(b) - c) > 2 for c in bars):
                bars.append(int(b))
        kw: dict[str, Any] = {"cfg": cfg, "window_bars": model.window_bars, "window_seconds": model.window_seconds}
        for name, extra in (("without", {}), ("with", {"references": refs})):
            rep = analyse(perf, score, scorer, **kw, **extra)
            played = [b for b in rep.played_bars if b.start_s is not None]
            clean[name] += sum(map(_tempo_remarked, played))
            if name == "with":
                n_played += len(played)
            for b in bars:
                a, e = float(down[b]), float(down[b + 1])
                rep = analyse(slow_span(perf, a, e, factor), score, scorer, **kw, **extra)
                mid = a + factor * (e - a) / 2
                hit = [x for x in rep.played_bars if x.start_s is not None and x.start_s <= mid < (x.end_s or 0)]
                found[name] += bool(hit and any(r.startswith("dragging") for r in hit[0].remarks))
                n_slowed += name == "with"
    return {
        "factor": factor,
        "performances": n_pieces,
        "slowed_bars": n_slowed,
        "found_without_references": round(found["without"] / max(n_slowed, 1), 3),
        "found_with_references": round(found["with"] / max(n_slowed, 1), 3),
        "clean_bars": n_played,
        "clean_tempo_remark_share_without_references": round(clean["without"] / max(n_played, 1), 3),
        "clean_tempo_remark_share_with_references": round(clean["with"] / max(n_played, 1), 3),
    }


def main() -> int:
    _setup()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", type=Path, default=None, help="the ASAP folder (default: shared/data/asap)")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--skip-timing", action="store_true")
    p.add_argument(
        "--recording", action="store_true", help="also time `score` of the 30 s excerpt as audio (transcribed)"
    )
    p.add_argument(
        "--tuning-set",
        action="store_true",
        help="score the other half of the folders (the ones left out of the evaluation), to set thresholds on",
    )
    p.add_argument(
        "--references",
        type=int,
        default=0,
        metavar="N",
        help="give each performance up to N other ASAP performances of its score as reference performances",
    )
    p.add_argument(
        "--tempo-check",
        action="store_true",
        help="with --references: slow three bars of each performance by 30%% and count the dragging remarks found",
    )
    p.add_argument(
        "--beat-tolerance",
        type=float,
        default=BEAT_TOLERANCE,
        metavar="BEATS",
        help=f"the beat check's pairing window in beats (default: {BEAT_TOLERANCE})",
    )
    p.add_argument("--output", type=Path, default=None)
    p.add_argument(
        "--analysis-config",
        type=json.loads,
        default=None,
        help="JSON object of AnalysisConfig fields to override, e.g. '{\"held_repeat\": false}' (ablations)",
    )
    args = p.parse_args()
    from piano_data.paths import find_data_root
    from piano_data.tiers.asap import load_asap

    root = args.data_root or ((find_data_root(HERE) or Path("/nonexistent")) / "asap")
    if not (root / "metadata.csv").is_file():
        print(json.dumps({"skipped": f"no ASAP metadata.csv under {root}"}))
        return 0
    items = load_asap(root)
    doc: dict[str, Any] = {"benchmark": "piano-eval score", "machine": platform.platform(),
                           "python": platform.python_version(), "command": " ".join(sys.argv)}  # fmt: skip
    exe = str(Path(sys.executable).with_name("piano-eval"))
    if not args.skip_timing:
        with tempfile.TemporaryDirectory() as tmp:
            short = next(it for it in items if it.annotations_path and it.score_annotations_path)
            perf30, score30 = excerpt(short, 30.0, Path(tmp))
            from piano_data.midi import read_notes

            durations = [(abs(read_notes(it.midi_path).end_time - 300.0), i) for i, it in enumerate(items[::25])]
            long = items[::25][min(durations)[1]]
            other = next(it for it in items if it.score_midi_path.parent == short.score_midi_path.parent
                         and it.midi_path != short.midi_path and it.annotations_path)  # fmt: skip
            (Path(tmp) / "ref").mkdir()
            ref30, _ = excerpt(other, 30.0, Path(tmp) / "ref")  # another player's first 30 s of the same score
            doc["timing"] = {
                "help": median_cpu([exe, "--help"]),
                "score_30s": {**median_cpu([exe, "score", str(perf30), "--score", str(score30)]),
                              "performance": str(short.midi_path.relative_to(root)), "excerpt_s": 30.0},
                "score_30s_with_reference": {
                    **median_cpu([exe, "score", str(perf30), "--score", str(score30), "--reference", str(ref30)]),
                    "reference": str(other.midi_path.relative_to(root)), "excerpt_s": 30.0},
                "score_5min": {**median_cpu([exe, "score", str(long.midi_path), "--score", str(long.score_midi_path)]),
                               "performance": str(long.midi_path.relative_to(root)),
                               "duration_s": round(read_notes(long.midi_path).end_time, 1)},
            }  # fmt: skip
            if args.recording:  # the 30 s excerpt rendered (TinySoundFont, TimGM6mb), transcribed inside `score`
                from piano_data.render import render_midi

                wav = render_midi(perf30, "timgm6mb", Path(tmp) / "renders").path
                doc["timing"]["score_30s_recording"] = {
                    **median_cpu([exe, "score", str(wav), "--score", str(score30)], runs=2),
                    "performance": str(short.midi_path.relative_to(root)), "excerpt_s": 30.0,
                    "audio": "rendered with timgm6mb (TinySoundFont), transcribed with transkun",
                }  # fmt: skip
            print(json.dumps(doc["timing"]), file=sys.stderr, flush=True)
    if args.count > 0:  # --count 0: the timing part alone
        chosen = select(items, args.count, tuning_set=args.tuning_set)
        doc["selection"] = "tuning set (odd folders)" if args.tuning_set else "evaluation set (even folders)"
        doc["feedback"] = evaluate(chosen, root, args.analysis_config, all_items=items, n_references=args.references,
                                   beat_tolerance=args.beat_tolerance)  # fmt: skip
        if args.tempo_check and args.references > 0:
            doc["tempo_check"] = tempo_check(chosen, root, items, args.references, args.analysis_config)
    text = json.dumps(doc, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
