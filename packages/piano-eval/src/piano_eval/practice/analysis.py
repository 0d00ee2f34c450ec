"""A whole performance against its score: alignment, bar-by-bar feedback, windows scored by the model.

:func:`analyse` reads the project's aligned representation of the pair
(:func:`piano_symbolic.aligned.align_performance`, one alignment per call) and sorts every note into matched,
missed (a score note nobody played), wrong (a score note played at another pitch: the aligner's substitution,
or a missed note and an extra note at the same place within a few semitones) and extra. Departures that are not
mistakes are set apart first: a missed and an extra note of the same pitch within a beat (timing), a repeated
or tied note held instead of struck again, a missed note whose pitch sounds right there anyway, an extra note of
a pitch the score has right there, grace notes and trills, and keys brushed much softer than the chord they came
with (:mod:`piano_eval.practice.note_classes`). Each remaining missed, extra or wrong note gets a confidence
(:mod:`piano_eval.practice.confidence`: ornament notes, bars mostly not found, inner chord notes and octave
doublings lower it); below ``min_confidence`` it is listed as a departure the tool is unsure of and does not
flag its bar. Per bar it gives where it was played (performance seconds, the alignment's time map), its tempo (the
span on the alignment's time map) against the score's tempo and its loudness. The played
bars are cut into windows of the length the model was trained on (on the score's bar lines), each window is
scored, and the overall profile is the duration-weighted mean over windows with its spread.

Without a score the performance is cut into time windows and there is no bar feedback. When the alignment
cannot be trusted (most score notes absent: probably another piece) the report says so and gives no bar
feedback either; a restart or a partial run-through keeps feedback for the bars actually played.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
from piano_data.midi import NoteArray

from piano_eval.practice.confidence import NoteConfidence, note_confidence
from piano_eval.practice.note_classes import (
    NoteClasses,
    bar_spans,
    bar_tempo,
    classify_notes,
    follows_score,
    played_bars,
)
from piano_eval.practice.references import ReferenceDepartures, reference_departures
from piano_eval.practice.report import (
    AnalysisConfig,
    BarFeedback,
    PracticeReport,
    Scorer,
    WindowResult,
    clock,
    pitch_name,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from piano_data.score import ScoreData
    from piano_symbolic.align.types import Alignment
    from piano_symbolic.aligned import AlignedPerformance

__all__ = ["analyse"]

# --- windows ---------------------------------------------------------------------------------------------


def _bar_windows(played_idx: np.ndarray, size: int, min_fraction: float) -> list[tuple[int, int]]:
    """Runs of consecutive played bars cut into windows of ``size`` bars; a short tail joins its neighbour."""
    if len(played_idx) == 0:
        return []
    runs: list[list[int]] = [[int(played_idx[0])]]
    for b in played_idx[1:]:
        if b == runs[-1][-1] + 1:
            runs[-1].append(int(b))
        else:
            runs.append([int(b)])
    out = []
    for run in runs:
        chunks = [run[i : i + size] for i in range(0, len(run), size)]
        if len(chunks) > 1 and len(chunks[-1]) < min_fraction * size:
            chunks[-2] = chunks[-2] + chunks.pop()
        out += [(c[0], c[-1]) for c in chunks]
    return out


def _time_windows(start: float, end: float, length: float, min_fraction: float) -> list[tuple[float, float]]:
    n = max(1, int(np.floor((end - start) / length)))
    edges = [start + i * length for i in range(n)] + [end]
    if n > 1 and (end - edges[-2]) < min_fraction * length:
        edges.pop(-2)
    return list(itertools.pairwise(edges))


def _subset(notes: NoteArray, mask: np.ndarray) -> NoteArray:
    return NoteArray.from_arrays(
        notes.onset[mask], notes.offset[mask], notes.pitch[mask], notes.velocity[mask], notes.pedal, notes.source
    )


# --- the analysis ----------------------------------------------------------------------------------------


def analyse(
    performance: NoteArray,
    score: ScoreData | None,
    scorer: Scorer,
    *,
    model_info: dict[str, Any] | None = None,
    cfg: AnalysisConfig | None = None,
    alignment: Alignment | None = None,
    aligned: AlignedPerformance | None = None,
    references: Sequence[NoteArray] | ReferenceDepartures | None = None,
    window_bars: int = 8,
    window_seconds: float = 20.0,
) -> PracticeReport:
    """Align, give bar-by-bar feedback, cut into windows and score them. See the module docstring.

    ``references``: other performances of the same score (a teacher's recording, other players' takes), or
    their departures already computed (:func:`piano_eval.practice.references.reference_departures`); a
    departure at least ``cfg.reference_share`` of them share is listed as unsure, not flagged.

    The notes are read from the project's aligned representation (:func:`piano_symbolic.aligned.align_performance`,
    computed here without caching unless ``aligned`` is given); ``alignment`` builds that representation from an
    alignment made elsewhere (a test's ground truth) instead of aligning. ``cfg`` defaults to ``AnalysisConfig()``.
    """
    cfg = cfg if cfg is not None else AnalysisConfig()
    if len(performance) == 0:
        raise ValueError("the performance has no notes")
    perf_end = float(performance.end_time)
    notes_out: list[str] = []
    bars: list[BarFeedback] = []
    restarts: list[dict[str, Any]] = []
    aln_info: dict[str, Any] | None = None
    trusted = score is not None
    size = cfg.window_bars or window_bars
    seconds = cfg.window_seconds or window_seconds
    passages: list[tuple[NoteArray, NoteArray | None]] = []
    spans: list[tuple[tuple[int, int] | None, float, float, int]] = []
    keep_perf = np.ones(len(performance), dtype=bool)
    ref_info: dict[str, Any] | None = None

    if score is not None:
        ap = _aligned(performance, score, alignment, aligned)
        aln = ap.alignment
        cls = classify_notes(performance, score, ap, score.beat_duration, cfg)
        played = played_bars(score, cls, ap)
        n_bars = len(score.bar_times)
        share, follows = follows_score(cls, played, cfg)
        aln_info = {
            "method": aln.method,
            "confidence": round(float(aln.confidence), 4),
            "flags": list(aln.flags),
            "matched_share_of_played_bars": round(share, 4),
        }
        if not follows:
            trusted = False
            total = int((cls.score_status != "missed").sum())
            notes_out.append(
                f"the performance does not follow this score: only {total} of {len(score.notes)} score notes were "
                "found in it. Is it the right score (and the same piece)? No bar-by-bar feedback is given from an "
                "alignment that cannot be trusted; the profile below is computed without the score."
            )
        else:
            keep_perf = cls.perf_status != "abandoned"
            for r_perf, r_score in ap.restarts:
                b = int(np.clip(score.bar_index(np.array([r_score]))[0], 0, n_bars - 1))
                restarts.append({"performance_s": round(float(r_perf), 3), "to_bar": score.bar_numbers[b]})
                notes_out.append(
                    f"restart at {clock(r_perf)}: the player went back to bar {score.bar_numbers[b]}; "
                    "the notes of the abandoned take are left out of the feedback"
                )
            played_idx = np.flatnonzero(played)
            if len(played_idx) < n_bars and len(played_idx):
                notes_out.append(
                    f"partial run-through: bars {score.bar_numbers[played_idx[0]]}-"
                    f"{score.bar_numbers[played_idx[-1]]} of {n_bars} were played; only they get feedback"
                )
            refs = None
            if references:  # an empty list: as without references
                refs = (
                    references
                    if isinstance(references, ReferenceDepartures)
                    else reference_departures(references, score, cfg)
                )
                ref_info = {"used": list(refs.sources), "rejected": refs.n_rejected}
                if refs.n == 0:
                    notes_out.append(
                        f"none of the {refs.n_rejected} reference performance(s) follows this score: they were left "
                        "out, and the feedback is as without references"
                    )
                else:
                    notes_out.append(
                        f"compared with {refs.n} reference performance(s) of this score"
                        + (f" ({refs.n_rejected} left out: they do not follow it)" if refs.n_rejected else "")
                        + f": departures that at least {cfg.reference_share:.0%} of them share are listed as not "
                        "sure, not as mistakes"
                    )
            conf = note_confidence(performance, score, ap, cls, score.beat_duration, cfg, refs)
            bars = _bar_feedback(performance, score, ap, cls, conf, played, cfg, refs)
            for first, last in _bar_windows(played_idx, size, cfg.min_window_fraction):
                s0 = float(score.bar_times[first])
                s1 = float(score.bar_times[last + 1]) if last + 1 < n_bars else float(score.notes.end_time)
                p_mask = keep_perf & (cls.perf_score_time >= s0) & (cls.perf_score_time < s1)
                s_mask = (score.notes.onset >= s0) & (score.notes.onset < s1)
                b0, b1 = bars[first].start_s, bars[last].end_s
                t0 = float(aln.time_map(s0)) if b0 is None else b0
                t1 = float(aln.time_map(s1)) if b1 is None else b1
                passages.append((_subset(performance, p_mask), _subset(score.notes, s_mask)))
                spans.append(((first, last), float(t0), float(t1), int(p_mask.sum())))
    else:
        notes_out.append("no score given: the profile is computed from the performance alone, without bar feedback")

    if not trusted:
        start = float(performance.onset[0])
        for t0, t1 in _time_windows(start, perf_end, seconds, cfg.min_window_fraction):
            mask = (performance.onset >= t0) & (performance.onset < t1)
            passages.append((_subset(performance, mask), None))
            spans.append((None, t0, t1, int(mask.sum())))

    windows = _score_windows(scorer, passages, spans, score, cfg)
    skipped = sum(1 for w in windows if w.values is None)
    if skipped:
        notes_out.append(f"{skipped} window(s) with fewer than {cfg.min_window_notes} notes were not scored")
    out_share = [w.outside_share for w in windows if w.outside_share is not None]
    if out_share and float(np.mean(out_share)) > 0.2:
        notes_out.append(
            "many features lie outside the range seen in training (mean share "
            f"{float(np.mean(out_share)):.2f}): treat the profile with caution"
        )
    return PracticeReport(
        performance=str(performance.source or "performance"),
        score=None if score is None else score.source,
        model=scorer.name,
        model_info=model_info or {},
        duration_s=perf_end - float(performance.onset[0]),
        n_performed_notes=len(performance),
        windows=windows,
        bars=bars if trusted else [],
        alignment=aln_info,
        notes=notes_out,
        restarts=restarts,
        trusted=trusted,
        references=ref_info,
        min_confidence=cfg.min_confidence,
    )


def _aligned(
    performance: NoteArray, score: ScoreData, alignment: Alignment | None, aligned: AlignedPerformance | None
) -> AlignedPerformance:
    """The aligned representation of the pair: given, built from a given alignment, or aligned once here."""
    if aligned is not None:
        if len(aligned.score_notes) != len(score.notes) or len(aligned.performed_notes) != len(performance):
            raise ValueError("the aligned performance does not belong to this performance and score")
        return aligned
    if alignment is not None:
        from piano_symbolic.aligned import AlignedConfig, build_aligned

        return build_aligned(performance, score, alignment, AlignedConfig())
    from piano_symbolic.aligned import align_performance

    return align_performance(performance, score, cache=False)


def _unsure(
    cls: NoteClasses, conf: NoteConfidence, s_pitch: np.ndarray, p_pitch: np.ndarray, si: int | None, pi: int | None
) -> dict[str, str]:
    """One departure the tool is unsure of: its kind, the note(s), and why it is not counted as a mistake."""
    if si is not None:
        kind = str(cls.score_status[si])
        note = pitch_name(s_pitch[si])
        if kind == "wrong":
            note = f"{pitch_name(p_pitch[cls.score_perf[si]])} for {note}"
        return {"kind": kind, "note": note, "why": ", ".join(conf.score_reasons[si])}
    assert pi is not None
    return {"kind": "extra", "note": pitch_name(p_pitch[pi]), "why": ", ".join(conf.perf_reasons[pi])}


def _score_windows(
    scorer: Scorer,
    passages: list[tuple[NoteArray, NoteArray | None]],
    spans: list[tuple[tuple[int, int] | None, float, float, int]],
    score: ScoreData | None,
    cfg: AnalysisConfig,
) -> list[WindowResult]:
    ok = [i for i, (p, _) in enumerate(passages) if len(p) >= cfg.min_window_notes]
    scores = scorer.score_windows([passages[i] for i in ok]) if ok else None
    out = []
    for i, (idx, t0, t1, n) in enumerate(spans):
        labels = None if idx is None or score is None else (score.bar_numbers[idx[0]], score.bar_numbers[idx[1]])
        w = WindowResult(idx, labels, t0, t1, n, None, None, None)
        if scores is not None and i in ok:
            k = ok.index(i)
            w.values = scores.values[k]
            w.confidence = None if scores.confidence is None else scores.confidence[k]
            w.outside_share = float(scores.outside_share[k])
        out.append(w)
    return out


def _bar_feedback(
    perf: NoteArray,
    score: ScoreData,
    ap: AlignedPerformance,
    cls: NoteClasses,
    conf: NoteConfidence,
    played: np.ndarray,
    cfg: AnalysisConfig,
    refs: ReferenceDepartures | None = None,
) -> list[BarFeedback]:
    """Per bar: its notes by class, where it was played (the time map), its tempo (the bar's
    score duration over its span on the time map: :func:`~piano_eval.practice.note_classes.bar_tempo`) and its
    loudness. Rushing and dragging are judged against the
    player's own median tempo, or, with references, against the references' tempo shape in that bar."""
    n_bars = len(score.bar_times)
    perf_end = float(perf.end_time)
    edges, starts, ends = bar_spans(score, ap, perf_end)
    sn, pn = ap.score_notes, ap.performed_notes
    bar_s, bar_p = cls.score_bar, cls.perf_bar
    tempo = bar_tempo(edges, starts, ends, played)
    out = []
    for b in range(n_bars):
        fb = BarFeedback(b, score.bar_numbers[b], float(edges[b]), float(edges[b + 1]), bool(played[b]))
        out.append(fb)
        if not fb.played:
            continue
        s_idx = np.flatnonzero(bar_s == b)
        p_idx = np.flatnonzero(bar_p == b)
        fb.n_score_notes = len(s_idx)
        fb.n_matched = int((cls.score_status[s_idx] == "matched").sum())
        sure_s = conf.score >= cfg.min_confidence
        sure_p = conf.perf >= cfg.min_confidence
        fb.missed = [pitch_name(sn.pitch[i]) for i in s_idx if cls.score_status[i] == "missed" and sure_s[i]]
        fb.wrong = [
            {"expected": pitch_name(sn.pitch[i]), "played": pitch_name(pn.pitch[cls.score_perf[i]])}
            for i in s_idx
            if cls.score_status[i] == "wrong" and sure_s[i]
        ]
        fb.extra = [pitch_name(pn.pitch[i]) for i in p_idx if cls.perf_status[i] == "extra" and sure_p[i]]
        off_s = [int(i) for i in s_idx if cls.score_status[i] in ("missed", "wrong")]
        off_p = [int(i) for i in p_idx if cls.perf_status[i] == "extra"]
        fb.unsure = [_unsure(cls, conf, sn.pitch, pn.pitch, i, None) for i in off_s if not sure_s[i]]
        fb.unsure += [_unsure(cls, conf, sn.pitch, pn.pitch, None, i) for i in off_p if not sure_p[i]]
        levels = [float(conf.score[i]) for i in off_s] + [float(conf.perf[i]) for i in off_p]
        fb.confidence = round(max(levels), 4) if levels else None
        fb.ornaments = int(np.isin(cls.perf_status[p_idx], ("ornament", "variant")).sum()) + int(
            (cls.score_status[s_idx] == "variant").sum()
        )
        t0, t1 = float(starts[b]), float(ends[b])
        fb.start_s, fb.end_s = round(t0, 3), round(max(t1, t0), 3)
        if np.isfinite(tempo[b]):
            fb.tempo_ratio = round(float(tempo[b]), 4)
        sounding = p_idx[np.isin(cls.perf_status[p_idx], ("matched", "wrong", "extra"))]
        if len(sounding):
            fb.loudness = round(float(pn.velocity[sounding].mean()), 2)
    ratios = np.array([b.tempo_ratio for b in out if b.played and b.tempo_ratio])
    median = float(np.median(ratios)) if len(ratios) else 1.0
    shape = refs.tempo_shape if refs is not None and refs.n else None
    for fb in out:
        if not fb.played:
            continue
        dev = 0.0
        if fb.tempo_ratio:
            fb.tempo_vs_piece = round(fb.tempo_ratio / median, 4)
            rel, than = fb.tempo_vs_piece, "than your own tempo"
            if shape is not None and np.isfinite(shape[fb.index]) and shape[fb.index] > 0:
                fb.tempo_vs_references = round(fb.tempo_vs_piece / float(shape[fb.index]), 4)
                rel, than = fb.tempo_vs_references, "than the references here (each against its own tempo)"
            dev = abs(float(np.log(rel)))
            if rel > 1 + cfg.tempo_flag:
                fb.remarks.append(f"rushing: {100 * (rel - 1):.0f}% faster {than}")
            elif rel < 1 / (1 + cfg.tempo_flag):
                fb.remarks.append(f"dragging: {100 * (1 - rel):.0f}% slower {than}")
        if fb.missed:
            fb.remarks.append(f"missed {', '.join(fb.missed)}")
        if fb.wrong:
            fb.remarks.append("wrong " + ", ".join(f"{w['played']} for {w['expected']}" for w in fb.wrong))
        if fb.extra:
            fb.remarks.append(f"extra {', '.join(fb.extra)}")
        if fb.unsure:
            fb.remarks.append("not sure: " + ", ".join(f"{u['kind']} {u['note']} ({u['why']})" for u in fb.unsure))
        fb.departure = round(fb.n_errors + (dev / np.log(1 + cfg.tempo_flag) if dev > 0 else 0.0), 3)
        if fb.departure < 1.0:
            fb.departure = 0.0 if not fb.remarks else fb.departure
    return out
