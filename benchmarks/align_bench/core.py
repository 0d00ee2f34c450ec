"""ASAP score-alignment benchmark (``python benchmarks/bench_align.py``): our aligner beside plain DTW and
parangonar, on MIDI and on rendered audio.

Each annotated score beat (``midi_score_annotations.txt``) is mapped through the aligner's time map and
compared with the annotated performance beat (``<performance>_annotations.txt``; both list the same beats in
order).
Every method runs on the same pieces in the same process; times are CPU seconds of the alignment alone
(files already loaded), single-threaded. A method that raises counts as a failure and its beats are scored
with a straight line between both files' first and last onsets.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes
from piano_data.progress import progress_disabled
from piano_data.tiers.asap import BeatAnnotations, load_asap, read_beat_annotations
from piano_eval.metrics import beat_errors, summarize_beat_errors
from piano_symbolic.align import Alignment, TimeMap, align_notes
from tqdm import tqdm

from align_bench.reference import parangonar_align, plain_dtw_align

log = logging.getLogger(__name__)

Aligner = Callable[[NoteArray, NoteArray], Alignment]
METHODS: dict[str, Aligner] = {
    "ours": align_notes,
    "plain-dtw": plain_dtw_align,
    "parangonar": parangonar_align,
}


@dataclass(frozen=True)
class AsapPerformance:
    """One ASAP performance with its score and beat annotations (absolute paths)."""

    index: int  # data row of metadata.csv (0-based)
    piece: str  # piece key (composer + title)
    score_midi: Path
    performance_midi: Path
    score_annotations: Path
    performance_annotations: Path


def asap_performances(root: Path) -> list[AsapPerformance]:
    """All performances of ``root/metadata.csv`` (read by :func:`piano_data.tiers.asap.load_asap`) that have
    their score MIDI and both beat annotations; the others are left out (logged)."""
    items = []
    for perf in load_asap(root):
        paths = (perf.score_midi_path, perf.midi_path, perf.score_annotations_path, perf.annotations_path)
        if not all(p is not None and p.is_file() for p in paths):
            log.info("%s: missing score or annotation files, skipped", perf.key)
            continue
        items.append(AsapPerformance(int(perf.extra["row"]), perf.piece, *paths))  # type: ignore[arg-type]
    return items


@dataclass
class PieceResult:
    """One method on one performance: signed beat errors (s), which beats are downbeats, CPU seconds, whether
    it raised, its flags, the restarts it reported (performance time, score time) and its played span."""

    errors: np.ndarray
    downbeat: np.ndarray
    cpu_s: float
    failed: bool
    flags: tuple[str, ...]
    restarts: tuple[tuple[float, float], ...] = ()
    played_span: tuple[float, float] | None = None


def _fallback(score: NoteArray, perf: NoteArray) -> TimeMap:
    return TimeMap.from_pairs(
        np.array([score.onset[0], max(score.end_time, score.onset[0] + 1e-3)]),
        np.array([perf.onset[0], perf.end_time]),
    )


def load_piece(item: AsapPerformance) -> tuple[NoteArray, NoteArray, BeatAnnotations, BeatAnnotations]:
    """Score notes, performance notes and the two beat annotations of one performance."""
    s_ann = read_beat_annotations(item.score_annotations)
    p_ann = read_beat_annotations(item.performance_annotations)
    if len(s_ann.times) != len(p_ann.times):
        n_perf, n_score = len(p_ann.times), len(s_ann.times)
        raise PianoDataError(item.performance_annotations, f"{n_perf} beats but the score has {n_score}")
    return read_notes(item.score_midi), read_notes(item.performance_midi), s_ann, p_ann


def evaluate_notes(
    score: NoteArray, perf: NoteArray, s_ann: BeatAnnotations, p_ann: BeatAnnotations, methods: Sequence[str]
) -> dict[str, PieceResult]:
    """Run each method on one (score, performance) pair and score its beats."""
    out = {}
    for name in methods:
        start = time.process_time()
        restarts: tuple[tuple[float, float], ...] = ()
        span = None
        try:
            result = METHODS[name](score, perf)
            tmap, failed, flags = result.time_map, False, result.flags
            restarts = tuple((r.performance_time, r.score_time) for r in result.restarts)
            span = result.played_span
        except Exception as exc:  # a crash is a benchmark result, not the end of the run
            log.warning("%s on %s failed: %s", name, perf.source, exc)
            tmap, failed, flags = _fallback(score, perf), True, ()
        cpu = time.process_time() - start
        errors = beat_errors(tmap, s_ann.times, p_ann.times)
        out[name] = PieceResult(errors, s_ann.downbeat, cpu, failed, flags, restarts, span)
    return out


def evaluate_piece(item: AsapPerformance, methods: Sequence[str]) -> dict[str, PieceResult]:
    """Run each method on one ASAP performance."""
    return evaluate_notes(*load_piece(item), methods)


#: A performance whose annotation puts at least this many score beats (over 100 ms apart in the score) less than
#: 30 ms apart: the performer skipped a section (a repeat not taken) and the annotation squeezes its beats into
#: one instant. Where such a jump sits inside a repeat is a matter of convention, not of the notes (see
#: piano_symbolic.align.repeats), so these pieces weigh on every method's mean by luck; the benchmark reports
#: tables with and without them. In ASAP 8 performances have 66 to 207 such beats; the next has 9.
SQUEEZED_MIN = 20


def squeezed_beats(item: AsapPerformance) -> int:
    """How many beats of ``item`` its annotation squeezes (see :data:`SQUEEZED_MIN`); 0 if they do not pair."""
    s_ann = read_beat_annotations(item.score_annotations)
    p_ann = read_beat_annotations(item.performance_annotations)
    if len(s_ann.times) != len(p_ann.times):
        return 0
    return int(np.sum((np.diff(p_ann.times) < 0.03) & (np.diff(s_ann.times) > 0.1)))


def summarize(results: list[dict[str, PieceResult]], methods: Sequence[str]) -> dict[str, dict]:
    """Pooled beat metrics plus failures, flags and CPU seconds per piece, for each method."""
    table = {}
    for name in methods:
        rows = [r[name] for r in results]
        if not rows:
            continue
        errors, downbeat = np.concatenate([r.errors for r in rows]), np.concatenate([r.downbeat for r in rows])
        summary = summarize_beat_errors(errors, downbeat)
        piece_mean = np.array([np.mean(np.abs(r.errors)) for r in rows])
        summary.update(
            pieces=len(rows),
            failures=sum(r.failed for r in rows),
            pieces_mean_error_over_1s=int(np.sum(piece_mean > 1.0)),
            flagged_low_confidence=sum("low_confidence" in r.flags for r in rows),
            restarts_reported=sum(len(r.restarts) for r in rows),
            pieces_with_restarts=sum(bool(r.restarts) for r in rows),
            flagged_partial=sum("partial" in r.flags for r in rows),
            cpu_s_per_piece_mean=float(np.mean([r.cpu_s for r in rows])),
            cpu_s_per_piece_median=float(np.median([r.cpu_s for r in rows])),
            cpu_s_per_piece_max=float(np.max([r.cpu_s for r in rows])),
        )
        table[name] = summary
    return table


def warm_up(methods: Sequence[str]) -> None:
    """Run each method once on a tiny input so that imports and JIT compilation stay out of the timings."""
    onset = np.arange(40) * 0.25
    pitch = 60 + (np.arange(40) * 7) % 24
    notes = NoteArray.from_arrays(onset, onset + 0.2, pitch, np.full(40, 64))
    for name in methods:
        METHODS[name](notes, notes)


def _log_piece(fh: TextIO | None, item: AsapPerformance, res: dict[str, PieceResult]) -> None:
    if fh is None:
        return
    for name, r in res.items():
        row = {"index": item.index, "performance": str(item.performance_midi), "method": name,
               "cpu_s": r.cpu_s,
               "failed": r.failed, "flags": list(r.flags), "errors_ms": np.round(r.errors * 1000, 3).tolist(),
               "downbeat": r.downbeat.astype(int).tolist(), "restarts": [list(x) for x in r.restarts],
               "played_span": None if r.played_span is None else list(r.played_span)}  # fmt: skip
        fh.write(json.dumps(row) + "\n")
    fh.flush()


def read_pieces_log(path: Path) -> tuple[dict[tuple[int, str], PieceResult], dict[int, str]]:
    """The per-piece results of an earlier (possibly stopped) run: ``{(metadata row, method): result}`` and the
    rows it skipped, with why. A torn last line (a run killed while writing) is ignored."""
    done: dict[tuple[int, str], PieceResult] = {}
    skipped: dict[int, str] = {}
    if not path.is_file():
        return done, skipped
    for n, line in enumerate(path.read_text().splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s: line %d is not JSON (a torn write?), ignored", path, n)
            continue
        if "skipped" in row:
            skipped[int(row["index"])] = row["skipped"]
            continue
        done[(int(row["index"]), row["method"])] = PieceResult(
            np.asarray(row["errors_ms"], dtype=np.float64) / 1000,
            np.asarray(row["downbeat"], dtype=bool),
            float(row["cpu_s"]),
            bool(row["failed"]),
            tuple(row["flags"]),
            tuple((float(a), float(b)) for a, b in row.get("restarts", [])),
            None if row.get("played_span") is None else (float(row["played_span"][0]), float(row["played_span"][1])),
        )
    return done, skipped


def _piece_job(job: tuple[AsapPerformance, list[str]]) -> tuple[AsapPerformance, dict[str, PieceResult] | str]:
    item, methods = job
    try:
        return item, evaluate_piece(item, methods)
    except PianoDataError as exc:
        return item, str(exc)


def _worker_init(methods: Sequence[str]) -> None:
    import os

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"
    warm_up(methods)


def run_midi_benchmark(
    items: Sequence[AsapPerformance],
    reference_every: int = 1,
    methods: Sequence[str] = tuple(METHODS),
    pieces_log: Path | None = None,
    jobs: int = 1,
    resume: bool = False,
    plot: Path | None = None,
) -> dict:
    """All ``methods`` but parangonar on every item; parangonar (and a same-pieces table) on every
    ``reference_every``-th item (those run first). ``pieces_log`` receives one JSON line per piece and method
    as it goes; with ``resume`` the results already in it are reused and only the missing (piece, method)
    pairs run, appended to it. ``jobs`` > 1 spreads the pieces over that many processes (each
    single-threaded; CPU seconds stay per method and piece). ``plot`` receives a PNG of the share of beats
    within each error, per method, on the pieces where all methods ran."""
    cheap = [m for m in methods if m != "parangonar"]
    done, skipped_before = read_pieces_log(pieces_log) if (resume and pieces_log is not None) else ({}, {})
    if done or skipped_before:
        log.info("resuming: %d results and %d skipped rows from %s", len(done), len(skipped_before), pieces_log)
    every: list[tuple[AsapPerformance, dict[str, PieceResult]]] = []
    ref: list[tuple[AsapPerformance, dict[str, PieceResult]]] = []
    skipped = []
    # spread order: the reference subset first, then the other residues, so that any prefix of the run (and of
    # the pieces log) is an evenly spread sample of the list
    order = sorted(range(len(items)), key=lambda k: (k % reference_every, k))

    def collect(item: AsapPerformance, res: dict[str, PieceResult]) -> None:
        res = {m: res[m] for m in methods if m in res}
        every.append((item, res))
        if "parangonar" in res:
            ref.append((item, res))

    todo: list[tuple[AsapPerformance, list[str]]] = []
    cached: dict[int, dict[str, PieceResult]] = {}
    for k in order:
        item = items[k]
        if item.index in skipped_before:
            skipped.append(skipped_before[item.index])
            continue
        use = list(methods) if k % reference_every == 0 else cheap
        cached[item.index] = {m: done[(item.index, m)] for m in use if (item.index, m) in done}
        missing = [m for m in use if m not in cached[item.index]]
        if missing:
            todo.append((item, missing))
        else:  # everything reused from the log
            collect(item, cached[item.index])
    fh = None
    if pieces_log is not None:
        fh = pieces_log.open("a" if resume else "w")
        if resume and fh.tell() > 0:
            with pieces_log.open("rb") as last:
                last.seek(-1, 2)
                if last.read(1) != b"\n":
                    fh.write("\n")  # end a torn last line so that the next result starts a line of its own
    results: Iterator[tuple[AsapPerformance, dict[str, PieceResult] | str]]
    try:
        if jobs > 1 and len(todo) > 1:
            import multiprocessing

            pool = multiprocessing.get_context("fork").Pool(jobs, _worker_init, (list(methods),))
            results = pool.imap_unordered(_piece_job, todo, chunksize=1)
        else:
            pool = None
            if todo:
                warm_up(methods)
            results = map(_piece_job, todo)
        for item, res in tqdm(results, total=len(todo), desc="ASAP MIDI", unit="piece", disable=progress_disabled()):
            if isinstance(res, str):
                skipped.append(res)
                if fh is not None:
                    fh.write(json.dumps({"index": item.index, "skipped": res}) + "\n")
                    fh.flush()
                continue
            _log_piece(fh, item, res)
            collect(item, {**cached[item.index], **res})
        if pool is not None:
            pool.close()
            pool.join()
    finally:
        if fh is not None:
            fh.close()
    squeezed = {item.index for item, _ in every if squeezed_beats(item) >= SQUEEZED_MIN}
    if plot is not None and ref:
        from piano_eval.plots import beat_error_cdf

        errors = {m: np.concatenate([r[m].errors for _, r in ref]) for m in methods}
        beat_error_cdf(errors, plot, f"ASAP beat error, {len(ref)} performances")

    def table(rows: list[tuple[AsapPerformance, dict[str, PieceResult]]], use: Sequence[str], rule: str) -> dict:
        return {"pieces": len(rows), "rule": rule, "methods": summarize([r for _, r in rows], use)}

    rule = f"every {reference_every}-th performance of the list"
    clean = "without the performances whose annotation squeezes a skipped section into one instant"
    return {
        "all": table(every, cheap, "every selected performance"),
        "reference_subset": table(ref, methods, rule),
        "all_without_squeezed": table([r for r in every if r[0].index not in squeezed], cheap, clean),
        "reference_subset_without_squeezed": table(
            [r for r in ref if r[0].index not in squeezed], methods, f"{rule}, {clean}"
        ),
        "squeezed_annotations": sorted(str(item.performance_midi) for item, _ in every if item.index in squeezed),
        "skipped": skipped,
    }


def choose_audio_subset(items: Sequence[AsapPerformance], n: int) -> list[AsapPerformance]:
    """``n`` performances of different pieces, evenly spread over the list (deterministic)."""
    seen, pool = set(), []
    for item in items:
        if item.piece in seen:
            continue
        try:
            load_piece(item)
        except PianoDataError:  # e.g. beat annotations that do not pair up
            continue
        seen.add(item.piece)
        pool.append(item)
    if n <= 0 or not pool:
        return []
    picks = np.unique(np.linspace(0, len(pool) - 1, min(n, len(pool))).round().astype(int))
    return [pool[i] for i in picks]


def _cut(notes: NoteArray, end: float) -> NoteArray:
    keep = notes.onset < end
    pedal = notes.pedal[notes.pedal[:, 0] < end] if len(notes.pedal) else notes.pedal
    if len(pedal):
        pedal = np.stack([pedal[:, 0], np.minimum(pedal[:, 1], end)], axis=1)
    return NoteArray.from_arrays(
        notes.onset[keep], np.minimum(notes.offset[keep], end + 1.0), notes.pitch[keep], notes.velocity[keep],
        pedal, notes.source,
    )  # fmt: skip


def _first_beats(ann: BeatAnnotations, k: int) -> BeatAnnotations:
    return BeatAnnotations(ann.times[:k], ann.downbeat[:k], ann.labels[:k])


def excerpt(
    score: NoteArray, perf: NoteArray, s_ann: BeatAnnotations, p_ann: BeatAnnotations, seconds: float
) -> tuple[NoteArray, NoteArray, BeatAnnotations, BeatAnnotations]:
    """The opening of a performance up to the last annotated beat before ``seconds`` (performance time; at least
    to the fifth beat, for a slow opening), the score up to the same beat, and the beats before it. Pieces
    shorter than that are kept whole."""
    inside = np.flatnonzero(p_ann.times <= seconds)
    k = max(int(inside[-1]) if len(inside) else 0, 4)  # at least 4 beats, even after a slow opening
    if k >= len(p_ann.times) - 1:
        return score, perf, s_ann, p_ann
    return (
        _cut(score, float(s_ann.times[k])),
        _cut(perf, float(p_ann.times[k]) - 0.05),  # a little early: the chord on beat k may be spread
        _first_beats(s_ann, k),
        _first_beats(p_ann, k),
    )


def run_audio_benchmark(
    items: Sequence[AsapPerformance],
    n: int,
    cache_dir: Path,
    excerpt_s: float = 30.0,
    soundfont: str = "fluidr3",
    methods: Sequence[str] = tuple(METHODS),
) -> dict:
    """Render the first ``excerpt_s`` s of ``n`` performances (piano_data.render), transcribe them
    (piano_audio.transcribe, transkun) and align the transcriptions to the matching score excerpts."""
    from piano_audio.transcribe import transcribe
    from piano_data.midi import write_notes
    from piano_data.render import render_midi

    chosen = choose_audio_subset(items, n)
    results, midi_results, pieces, transcribe_cpu, audio_s = [], [], [], [], []
    for item in tqdm(chosen, desc="ASAP audio", unit="piece", disable=progress_disabled()):
        score, perf, s_ann, p_ann = excerpt(*load_piece(item), excerpt_s)
        midi = write_notes(perf, cache_dir / "excerpts" / f"{item.index:04d}_{excerpt_s:.0f}s.mid")
        rendered = render_midi(midi, soundfont, cache_dir)
        cached = cache_dir / "transcriptions" / f"{rendered.digest}.mid"
        if cached.is_file() and cached.with_suffix(".json").is_file():  # a rerun: reuse, report its old cost
            notes = read_notes(cached)
            cpu = float(json.loads(cached.with_suffix(".json").read_text())["cpu_s"])
        else:
            start = time.process_time()
            notes = transcribe(rendered.path)
            cpu = time.process_time() - start
            write_notes(notes, cached)
            cached.with_suffix(".json").write_text(json.dumps({"cpu_s": cpu}))
        transcribe_cpu.append(cpu)
        audio_s.append(rendered.seconds)
        results.append(evaluate_notes(score, notes, s_ann, p_ann, methods))
        midi_results.append(evaluate_notes(score, perf, s_ann, p_ann, methods))
        pieces.append(str(item.performance_midi))
    return {
        "pieces": len(results),
        "excerpt_s": excerpt_s,
        "soundfont": soundfont,
        "performances": pieces,
        "audio_s_total": float(np.sum(audio_s)),
        "transcription_cpu_s_per_piece": float(np.mean(transcribe_cpu)) if transcribe_cpu else None,
        "methods": summarize(results, methods),
        "same_excerpts_from_midi": summarize(midi_results, methods),
    }


_NAMES = {"ours": "**ours**", "plain-dtw": "plain DTW", "parangonar": "parangonar"}
_HEADER = (
    "| {title} | pieces | beats | median (ms) | mean (ms) | beats <=30 ms | <=50 ms | <=100 ms "
    "| downbeats <=30 ms | <=100 ms | failures | flagged | pieces mean err > 1 s | CPU s/piece mean / median / max |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def markdown_table(title: str, methods: dict[str, dict]) -> str:
    """One Markdown table (a row per method) of a summary from :func:`summarize`."""
    rows = [_HEADER.format(title=title)]
    for name, m in methods.items():
        pct = [f"{100 * m[k]:.2f}%" for k in ("beats_within_30ms", "beats_within_50ms", "beats_within_100ms")]
        pct += [f"{100 * m[k]:.2f}%" for k in ("downbeats_within_30ms", "downbeats_within_100ms")]
        cpu = f"{m['cpu_s_per_piece_mean']:.3f} / {m['cpu_s_per_piece_median']:.3f} / {m['cpu_s_per_piece_max']:.3f}"
        head = [_NAMES.get(name, name), m["pieces"], m["n_beats"], f"{m['median_ms']:.2f}", f"{m['mean_ms']:.1f}"]
        tail = [m["failures"], m["flagged_low_confidence"], m["pieces_mean_error_over_1s"], cpu]
        rows.append("| " + " | ".join(str(x) for x in [*head, *pct, *tail]) + " |")
    return "\n".join(rows)


def markdown_report(report: dict) -> str:
    """The tables of a ``bench_align.py`` report, as Markdown (what benchmarks/alignment.md quotes)."""
    parts = [f"Command: `{report.get('command', '')}`"]
    midi = report.get("midi", {})
    for key, title in (
        ("all", "MIDI, all evaluated performances"),
        ("reference_subset", "MIDI, pieces where all methods ran"),
        ("all_without_squeezed", "MIDI, all, without squeezed annotations"),
        ("reference_subset_without_squeezed", "MIDI, all methods, without squeezed annotations"),
    ):
        if midi.get(key, {}).get("methods"):
            parts.append(markdown_table(title, midi[key]["methods"]))
    audio = report.get("audio")
    if audio and audio.get("methods"):
        parts.append(markdown_table("transcribed audio", audio["methods"]))
        parts.append(markdown_table("same excerpts, MIDI", audio["same_excerpts_from_midi"]))
    return "\n\n".join(parts) + "\n"
