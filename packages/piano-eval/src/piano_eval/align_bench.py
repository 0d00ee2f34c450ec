"""ASAP score-alignment benchmark: our aligner beside plain DTW and parangonar, on MIDI and on rendered audio.

Each annotated score beat (``midi_score_annotations.txt``) is mapped through the aligner's time map and compared
with the annotated performance beat (``<performance>_annotations.txt``; both list the same beats in order).
Every method runs on the same pieces in the same process; times are CPU seconds of the alignment alone
(files already loaded), single-threaded. A method that raises counts as a failure and its beats are scored
with a straight line between both files' first and last onsets.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes
from piano_symbolic.align import (
    Alignment,
    TimeMap,
    align_notes,
    beat_errors,
    parangonar_align,
    plain_dtw_align,
    read_beat_annotations,
    summarize_errors,
)
from tqdm import tqdm

log = logging.getLogger(__name__)

Aligner = Callable[[NoteArray, NoteArray], Alignment]
METHODS: dict[str, Aligner] = {"ours": align_notes, "plain_dtw": plain_dtw_align, "parangonar": parangonar_align}


@dataclass(frozen=True)
class AsapPerformance:
    """One ASAP performance with its score and beat annotations (absolute paths)."""

    index: int  # row in metadata.csv
    piece: str  # composer + title
    score_midi: Path
    performance_midi: Path
    score_annotations: Path
    performance_annotations: Path


def asap_performances(root: Path) -> list[AsapPerformance]:
    """All performances listed in ``root/metadata.csv`` (rows with missing files are left out, logged)."""
    meta = root / "metadata.csv"
    if not meta.is_file():
        raise PianoDataError(meta, "ASAP metadata.csv not found (is --data-root the asap folder?)")
    items = []
    with meta.open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            try:
                paths = [root / row[k] for k in
                         ("midi_score", "midi_performance", "midi_score_annotations", "performance_annotations")]
            except KeyError as exc:
                raise PianoDataError(meta, f"missing column {exc}") from None
            if not all(p.is_file() for p in paths):
                log.info("row %d: missing files, skipped", i)
                continue
            items.append(AsapPerformance(i, f"{row['composer']} {row['title']}", *paths))
    return items


@dataclass
class PieceResult:
    errors: np.ndarray
    downbeat: np.ndarray
    cpu_s: float
    failed: bool
    flags: tuple[str, ...]


def _fallback(score: NoteArray, perf: NoteArray) -> TimeMap:
    return TimeMap.from_pairs(
        np.array([score.onset[0], max(score.end_time, score.onset[0] + 1e-3)]),
        np.array([perf.onset[0], perf.end_time]),
    )


def evaluate_piece(
    item: AsapPerformance, methods: Sequence[str], performance: NoteArray | None = None
) -> dict[str, PieceResult]:
    """Run each method on one performance (``performance`` replaces the MIDI, e.g. a transcription)."""
    score = read_notes(item.score_midi)
    perf = read_notes(item.performance_midi) if performance is None else performance
    s_ann = read_beat_annotations(item.score_annotations)
    p_ann = read_beat_annotations(item.performance_annotations)
    if len(s_ann) != len(p_ann):
        raise PianoDataError(item.performance_annotations, f"{len(p_ann)} beats but the score has {len(s_ann)}")
    out = {}
    for name in methods:
        start = time.process_time()
        try:
            result = METHODS[name](score, perf)
            tmap, failed, flags = result.time_map, False, result.flags
        except Exception as exc:  # a crash is a benchmark result, not the end of the run
            log.warning("%s on %s failed: %s", name, item.performance_midi, exc)
            tmap, failed, flags = _fallback(score, perf), True, ()
        cpu = time.process_time() - start
        out[name] = PieceResult(beat_errors(tmap, s_ann.time, p_ann.time), s_ann.downbeat, cpu, failed, flags)
    return out


def summarize(results: list[dict[str, PieceResult]], methods: Sequence[str]) -> dict[str, dict]:
    """Pooled beat metrics plus failures, flags and CPU seconds per piece, for each method."""
    table = {}
    for name in methods:
        rows = [r[name] for r in results]
        if not rows:
            continue
        summary = summarize_errors(np.concatenate([r.errors for r in rows]), np.concatenate([r.downbeat for r in rows]))
        piece_mean = np.array([np.mean(np.abs(r.errors)) for r in rows])
        summary.update(
            pieces=len(rows),
            failures=sum(r.failed for r in rows),
            pieces_mean_error_over_1s=int(np.sum(piece_mean > 1.0)),
            flagged_low_confidence=sum("low_confidence" in r.flags for r in rows),
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


def run_midi_benchmark(
    items: Sequence[AsapPerformance], reference_every: int = 1, methods: Sequence[str] = tuple(METHODS)
) -> dict:
    """All ``methods`` but parangonar on every item; parangonar (and a same-pieces table) on every
    ``reference_every``-th item."""
    cheap = [m for m in methods if m != "parangonar"]
    warm_up(methods)
    every: list[dict[str, PieceResult]] = []
    ref: list[dict[str, PieceResult]] = []
    skipped = []
    for k, item in enumerate(tqdm(items, desc="ASAP MIDI", unit="piece")):
        use = list(methods) if k % reference_every == 0 else cheap
        try:
            res = evaluate_piece(item, use)
        except PianoDataError as exc:
            skipped.append(str(exc))
            continue
        every.append(res)
        if "parangonar" in res:
            ref.append(res)
    return {
        "all": {"pieces": len(every), "methods": summarize(every, cheap)},
        "reference_subset": {
            "pieces": len(ref),
            "rule": f"every {reference_every}-th performance of the list",
            "methods": summarize(ref, methods),
        },
        "skipped": skipped,
    }


def choose_audio_subset(
    items: Sequence[AsapPerformance], n: int, min_s: float = 20.0, max_s: float = 90.0
) -> list[AsapPerformance]:
    """``n`` performances of different pieces lasting ``min_s``-``max_s`` s, evenly spread over the list."""
    seen, pool = set(), []
    for item in items:
        if item.piece in seen:
            continue
        length = read_notes(item.performance_midi).end_time
        if min_s <= length <= max_s:
            seen.add(item.piece)
            pool.append(item)
    if n <= 0 or not pool:
        return []
    picks = np.unique(np.linspace(0, len(pool) - 1, min(n, len(pool))).round().astype(int))
    return [pool[i] for i in picks]


def run_audio_benchmark(
    items: Sequence[AsapPerformance],
    n: int,
    cache_dir: Path,
    soundfont: str = "fluidr3",
    methods: Sequence[str] = tuple(METHODS),
) -> dict:
    """Render ``n`` performances (piano_data.render), transcribe them (piano_audio.transcribe, transkun) and
    align the transcriptions to the scores with every method."""
    from piano_audio.transcribe import transcribe
    from piano_data.render import render_midi

    chosen = choose_audio_subset(items, n)
    results, pieces, transcribe_cpu, audio_s = [], [], [], []
    for item in tqdm(chosen, desc="ASAP audio", unit="piece"):
        rendered = render_midi(item.performance_midi, soundfont, cache_dir)
        start = time.process_time()
        notes = transcribe(rendered.path)
        transcribe_cpu.append(time.process_time() - start)
        audio_s.append(rendered.seconds)
        results.append(evaluate_piece(item, methods, performance=notes))
        pieces.append(str(item.performance_midi))
    return {
        "pieces": len(results),
        "soundfont": soundfont,
        "performances": pieces,
        "audio_s_total": float(np.sum(audio_s)),
        "transcription_cpu_s_per_piece": float(np.mean(transcribe_cpu)) if transcribe_cpu else None,
        "methods": summarize(results, methods),
    }
