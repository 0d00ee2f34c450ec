"""The notes of an aligned performance sorted for the bar feedback, and the bars the performance covers.

:func:`classify_notes` reads the aligner's statuses from the aligned representation
(:func:`piano_symbolic.aligned.align_performance`) and refines them: departures that are not mistakes are set apart
(a missed and an extra note of one pitch within a beat: timing; a repeated or tied note held instead of struck
again; a missed note whose pitch sounds right there anyway; an extra note of a pitch the score has right there;
grace notes and trills, short for their passage; keys brushed much softer than the chord they came with), the
notes of an abandoned take before a restart are marked, and a missed note with an extra note at the same place a
few semitones away becomes one wrong note. :func:`played_bars` gives the bars inside the part of the score the
performance covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from piano_data.midi import NoteArray

if TYPE_CHECKING:
    from piano_data.score import ScoreData
    from piano_symbolic.aligned import AlignedPerformance

    from piano_eval.practice.report import AnalysisConfig

__all__ = ["NoteClasses", "bar_spans", "bar_tempo", "classify_notes", "follows_score", "played_bars"]


# --- aligned notes -> note classes -----------------------------------------------------------------------


@dataclass(frozen=True)
class NoteClasses:
    score_status: np.ndarray  # [S] "matched" | "missed" | "wrong" | "variant"
    score_perf: np.ndarray  # [S] performance index or -1
    perf_status: np.ndarray  # [P] "matched" | "wrong" | "extra" | "variant" | "ornament" | "abandoned"
    perf_score_time: np.ndarray  # [P] score time of each performed note (via the time map)
    score_bar: np.ndarray  # [S] 0-based bar of each score note
    perf_bar: np.ndarray  # [P] 0-based bar of each performed note (its score note's, extras by the map)


def classify_notes(
    perf: NoteArray, score: ScoreData, ap: AlignedPerformance, beat_len: Callable[[np.ndarray], np.ndarray],
    cfg: AnalysisConfig,
) -> NoteClasses:  # fmt: skip
    """Note classes for the feedback, read from the aligned representation and refined (variants, ornaments,
    wrong notes the aligner left as a missed + an extra note)."""
    sn, pn = ap.score_notes, ap.performed_notes
    n_bars = len(score.bar_times)
    score_status = np.where(sn.status == "substituted", "wrong", sn.status).astype(object)
    score_perf = sn.perf_index.astype(np.int64).copy()
    perf_status = np.where(pn.status == "substituted", "wrong", pn.status).astype(object)
    perf_score_time = np.asarray(pn.score_time, dtype=np.float64)
    score_bar = np.clip(sn.bar, 0, n_bars - 1)
    perf_bar = np.clip(pn.bar, 0, n_bars - 1)

    # abandoned takes: performed notes between the last matched note before a restart and the restart itself
    matched_on = perf.onset[perf_status == "matched"]
    for r_perf, _ in ap.restarts:
        before = matched_on[matched_on < r_perf - 1e-6]
        t0 = float(before.max()) if len(before) else -np.inf
        idx = (perf.onset > t0) & (perf.onset < r_perf) & (perf_status == "extra")
        perf_status[idx] = "abandoned"

    # timing, not a mistake: a missed score note and an extra performed note of the same pitch close in score time
    # (the aligner left the pair apart, beyond its last threshold): paired one to one, nearest first
    s_on, s_pitch = score.notes.onset, score.notes.pitch
    missed = np.flatnonzero(score_status == "missed")
    extra = np.flatnonzero(perf_status == "extra")
    if cfg.timing_pair_beats > 0 and len(missed) and len(extra):
        tol = cfg.timing_pair_beats * beat_len(s_on[missed])
        pairs = []
        for k, si in enumerate(missed):
            dt = np.abs(perf_score_time[extra] - s_on[si])
            ok = np.flatnonzero((perf.pitch[extra] == s_pitch[si]) & (dt <= tol[k]))
            pairs += [(float(dt[j]), int(si), int(extra[j])) for j in ok]
        taken_s: set[int] = set()
        taken_p: set[int] = set()
        for _, s_i, p_i in sorted(pairs):
            if s_i not in taken_s and p_i not in taken_p:
                taken_s.add(s_i)
                taken_p.add(p_i)
                score_status[s_i] = "variant"
                perf_status[p_i] = "variant"

    # held, not struck again: a missed score note whose same-pitch predecessor in the score runs into it (a
    # repeated or tied note) and whose performed note is still down when this one was due
    missed = np.flatnonzero(score_status == "missed")
    if cfg.held_repeat and len(missed):
        s_off = s_on + score.notes.duration
        due = ap.alignment.time_map(s_on[missed])
        slack = 0.25 * beat_len(s_on[missed])
        for k, si in enumerate(missed):
            prev = np.flatnonzero(
                (s_pitch == s_pitch[si]) & (s_on < s_on[si] - 1e-3) & (s_off >= s_on[si] - slack[k]) & (score_perf >= 0)
            )
            if len(prev) and np.any(perf.offset[score_perf[prev]] >= due[k] - 0.05):
                score_status[si] = "variant"

    # variants, not errors: a missed score note whose twin (same pitch, same onset: two voices on one key) or
    # whose pitch was played right there anyway (a trill realised with fewer notes, a repeated note merged)
    missed = np.flatnonzero(score_status == "missed")
    if len(missed):
        s_on, s_pitch = score.notes.onset, score.notes.pitch
        tol = cfg.variant_beats * beat_len(s_on[missed])
        heard = np.isin(perf_status, ("matched", "wrong", "extra"))
        for k, si in enumerate(missed):
            twin = (s_pitch == s_pitch[si]) & (np.abs(s_on - s_on[si]) < 0.05) & (score_status != "missed")
            near = heard & (perf.pitch == s_pitch[si]) & (np.abs(perf_score_time - s_on[si]) <= tol[k])
            if twin.any() or near.any():
                score_status[si] = "variant"
    # and an extra note of a pitch the score has right there (an added trill or repeated note)
    extra = np.flatnonzero(perf_status == "extra")
    if len(extra):
        tol_p = cfg.variant_beats * beat_len(perf_score_time[extra])
        order = np.argsort(score.notes.onset)
        s_sorted = score.notes.onset[order]
        for k, pi in enumerate(extra):
            lo = np.searchsorted(s_sorted, perf_score_time[pi] - tol_p[k])
            hi = np.searchsorted(s_sorted, perf_score_time[pi] + tol_p[k], side="right")
            if np.any(score.notes.pitch[order[lo:hi]] == perf.pitch[pi]):
                perf_status[pi] = "variant"

    # a missed score note and an extra performed note close in time and pitch: one wrong note
    missed = np.flatnonzero(score_status == "missed")
    extra = np.flatnonzero(perf_status == "extra")
    if len(missed) and len(extra):
        tol = cfg.wrong_max_beats * beat_len(score.notes.onset[missed])
        cands = []
        for k, si in enumerate(missed):
            dt = np.abs(perf_score_time[extra] - score.notes.onset[si])
            dp = np.abs(perf.pitch[extra] - score.notes.pitch[si])
            ok = np.flatnonzero((dt <= tol[k]) & (dp <= cfg.wrong_max_semitones) & (dp > 0))
            cands += [(float(dt[j] / max(tol[k], 1e-6) + dp[j] / 12.0), int(si), int(extra[j])) for j in ok]
        used_s: set[int] = set()
        used_p: set[int] = set()
        for _, s_i, p_i in sorted(cands):
            if s_i in used_s or p_i in used_p:
                continue
            used_s.add(s_i)
            used_p.add(p_i)
            score_status[s_i] = "wrong"
            score_perf[s_i] = p_i
            perf_status[p_i] = "wrong"

    # ornaments: short extra notes next to (in pitch) a matched note sounding at the same moment; and
    # brushed keys: very short extra notes softer than the performance's median (barely audible). Either must
    # also be short for its passage (shorter than the notes around it): in a fast run every note is short, and
    # an added note as long as its neighbours is a wrong key, not a grace note
    extra = np.flatnonzero(perf_status == "extra")
    short_here = _shorter_than_context(perf, perf_status, extra, cfg)  # [P]
    ghost = (perf.duration[extra] < cfg.ghost_max_s) & (perf.velocity[extra] < np.median(perf.velocity))
    ghost &= short_here[extra]
    perf_status[extra[ghost]] = "ornament"
    extra = extra[~ghost]
    if cfg.brushed_ratio > 0 and len(extra):  # much softer than the played notes struck with it: a brushed key
        ref = np.flatnonzero(np.isin(perf_status, ("matched", "wrong")))
        soft = np.zeros(len(extra), dtype=bool)
        for k, pi in enumerate(extra):
            mates = ref[np.abs(perf.onset[ref] - perf.onset[pi]) <= cfg.brushed_window_s]
            soft[k] = len(mates) > 0 and perf.velocity[pi] < cfg.brushed_ratio * np.median(perf.velocity[mates])
        perf_status[extra[soft]] = "ornament"
        extra = extra[~soft]
    if len(extra):
        ref = np.flatnonzero(perf_status == "matched")
        # a trill or a turn: other short unmatched notes a step or two away around it (a wrong key added to a run
        # comes alone)
        loose = np.flatnonzero(
            np.isin(perf_status, ("extra", "ornament", "variant")) & (perf.duration <= cfg.ornament_max_s)
        )
        for pi in extra:
            if perf.duration[pi] > cfg.ornament_max_s:
                continue
            if cfg.figure_notes > 0:
                mates = loose[(loose != pi) & (np.abs(perf.onset[loose] - perf.onset[pi]) <= 0.3)]
                if np.sum(np.abs(perf.pitch[mates] - perf.pitch[pi]) <= cfg.ornament_semitones) >= cfg.figure_notes:
                    perf_status[pi] = "ornament"
                    continue
            if not short_here[pi] or len(ref) == 0:
                continue
            near = ref[(np.abs(perf.onset[ref] - perf.onset[pi]) <= 0.3)]
            if len(near) and np.any(np.abs(perf.pitch[near] - perf.pitch[pi]) <= cfg.ornament_semitones):
                perf_status[pi] = "ornament"
    return NoteClasses(score_status, score_perf, perf_status, perf_score_time, score_bar, perf_bar)


def _shorter_than_context(perf: NoteArray, perf_status: np.ndarray, idx: np.ndarray, cfg: AnalysisConfig) -> np.ndarray:
    """A mask over all performed notes: each note in ``idx`` is marked when it is shorter than
    ``cfg.ornament_context_ratio`` times the median duration of the matched notes struck within
    ``cfg.ornament_context_s`` of it (marked where there are none, or with the ratio 0); notes outside ``idx`` are
    marked too. A grace note or a brushed key is short for its passage, a note of a fast run is not."""
    out = np.ones(len(perf), dtype=bool)
    if cfg.ornament_context_ratio <= 0:
        return out
    ref = np.flatnonzero(perf_status == "matched")
    for pi in idx:
        mates = ref[np.abs(perf.onset[ref] - perf.onset[pi]) <= cfg.ornament_context_s]
        if len(mates):
            out[pi] = perf.duration[pi] < cfg.ornament_context_ratio * float(np.median(perf.duration[mates]))
    return out


# --- played span and trust -------------------------------------------------------------------------------


def played_bars(score: ScoreData, notes: NoteClasses, ap: AlignedPerformance) -> np.ndarray:
    """Boolean per bar: inside the part of the score the performance covers.

    The bars from the first to the last one with at least half of its notes played (matched or wrong), cut
    further to the aligner's ``played_span`` when it reports one.
    """
    n_bars = len(score.bar_times)
    bar_of_note = notes.score_bar
    played_notes = np.isin(notes.score_status, ("matched", "wrong"))
    played = np.zeros(n_bars, dtype=bool)
    if not played_notes.any():
        return played
    found = np.bincount(bar_of_note[played_notes], minlength=n_bars)
    total = np.bincount(bar_of_note, minlength=n_bars)
    hit = (found > 0) & (found >= 0.5 * total)  # a few stray matches do not make a bar played
    if not hit.any():
        hit = found > 0
    first, last = np.flatnonzero(hit)[[0, -1]]
    played[first : last + 1] = True
    span = ap.played_span
    if span is not None:
        lo, hi = span
        starts, ends = score.bar_times, np.append(score.bar_times[1:], np.inf)
        played &= (ends > lo + 1e-6) & (starts < hi - 1e-6)
    return played


def follows_score(notes: NoteClasses, played: np.ndarray, cfg: AnalysisConfig) -> tuple[float, bool]:
    """The share of the score notes in the played bars that were found (not missed), and whether the alignment
    can be trusted: that share at least ``min_trusted_share`` and at least ``min_matched_notes`` matched."""
    in_span = played[notes.score_bar]
    found = int(((notes.score_status != "missed") & in_span).sum())
    share = found / max(int(in_span.sum()), 1)
    n_matched = int((notes.score_status == "matched").sum())
    return share, share >= cfg.min_trusted_share and n_matched >= cfg.min_matched_notes


def bar_spans(score: ScoreData, ap: AlignedPerformance, perf_end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The score's bar edges ``[n_bars + 1]`` (score seconds; the last bar ends with the last note) and where each
    bar was played, start and end ``[n_bars]`` in performance seconds: its span on the alignment's time map,
    clipped to 0 and ``perf_end`` (the performance's last release; the map extrapolates beyond its anchors)."""
    end_score = max(float(score.notes.end_time), float(score.bar_times[-1]) + 1e-3)
    edges = np.append(score.bar_times, end_score)
    mapped = np.asarray(ap.alignment.time_map(edges), dtype=np.float64)
    return edges, np.maximum(mapped[:-1], 0.0), np.minimum(np.maximum(mapped[1:], 0.0), perf_end)


def bar_tempo(edges: np.ndarray, start: np.ndarray, end: np.ndarray, played: np.ndarray) -> np.ndarray:
    """Per bar, the played tempo over the score's tempo (1 = as written, >1 faster); NaN for bars not played.

    The bar's score duration over the time it took (``edges``, ``start``, ``end`` from :func:`bar_spans`). Not
    the aligned representation's local tempo, which is fitted over 2 beats either side of each chord and so
    blurs a short bar into its neighbours (``benchmarks/score.md``).
    """
    out = np.full(len(start), np.nan)
    ok = played & (end - start > 1e-3)
    out[ok] = np.diff(edges)[ok] / (end - start)[ok]
    return out
