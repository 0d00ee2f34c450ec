"""Building the aligned representation from an :class:`Alignment`: the smoothed time map and the per-note values.

The local tempo is a robust, leave-one-out local linear fit of performed chord onset (the median onset of its
matched notes) on score onset, over the chords within ``tempo_window`` beats: each chord's expected onset is what
its neighbours' tempo predicts, so a uniform stretch of the score gives zero deviations and one late chord gives
its own delay. Chords whose first-pass residual is an outlier (above ``outlier_scale`` robust standard
deviations and ``outlier_beats``) are dropped from the second pass. Where a window holds fewer than two usable
chords it is doubled (up to the whole piece).
"""

from __future__ import annotations

import numpy as np
from piano_data.midi import NoteArray
from piano_data.score import ScoreData

from piano_symbolic.align.features import group_onsets
from piano_symbolic.align.types import Alignment, TimeMap
from piano_symbolic.aligned.types import AlignedConfig, AlignedPerformance, PerformedNotes, ScoreNotes

__all__ = ["build_aligned", "local_linear_fit", "status_arrays"]

_MAX_DOUBLINGS = 8


def local_linear_fit(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, x_eval: np.ndarray, half: np.ndarray, own: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Intercept and slope of the weighted least-squares line of ``y`` on ``x`` over the points within
    ``half[k]`` of each ``x_eval[k]``, leaving out point ``own[k]`` (-1: none). ``x`` is sorted.

    Windows with fewer than two distinct points or a non-positive slope are doubled; evaluation points that
    still have none get the whole-piece line. Returns NaN arrays when fewer than two points carry weight.
    """
    n_eval = len(x_eval)
    a, b = np.full(n_eval, np.nan), np.full(n_eval, np.nan)
    keep = w > 0
    if keep.sum() < 2 or np.ptp(x[keep]) <= 0:
        return a, b
    sums = [np.concatenate([[0.0], np.cumsum(v)]) for v in (w, w * x, w * y, w * x * x, w * x * y)]
    safe_own = np.clip(own, 0, len(x) - 1)
    own_w = np.where(own >= 0, w[safe_own], 0.0)
    own_terms = [own_w, own_w * x[safe_own], own_w * y[safe_own], own_w * x[safe_own] ** 2]
    own_terms.append(own_w * x[safe_own] * y[safe_own])
    todo = np.ones(n_eval, dtype=bool)
    h = np.asarray(half, dtype=np.float64).copy()
    for _ in range(_MAX_DOUBLINGS):
        k = np.flatnonzero(todo)
        if len(k) == 0:
            break
        lo = np.searchsorted(x, x_eval[k] - h[k], side="left")
        hi = np.searchsorted(x, x_eval[k] + h[k], side="right")
        s0, sx, sy, sxx, sxy = (c[hi] - c[lo] - t[k] for c, t in zip(sums, own_terms, strict=True))
        den = s0 * sxx - sx * sx
        ok = (s0 > 1.5) & (den > 1e-12 * np.maximum(s0 * sxx, 1e-12))
        slope = np.where(ok, (s0 * sxy - sx * sy) / np.where(ok, den, 1.0), np.nan)
        ok &= slope > 0
        a[k[ok]] = (sy[ok] - slope[ok] * sx[ok]) / s0[ok]
        b[k[ok]] = slope[ok]
        todo[k[ok]] = False
        h[k] *= 2.0
    if todo.any():
        bb, aa = np.polyfit(x[keep], y[keep], 1, w=np.sqrt(w[keep]))
        a[todo], b[todo] = aa, max(bb, 1e-3)
    return a, b


def status_arrays(alignment: Alignment, n_score: int, n_perf: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(score status, perf_index per score note, score_index per performed note)`` from the note matches
    (``Alignment.matches.substituted`` is read when the aligner provides it)."""
    s_status = np.full(n_score, "missed", dtype="<U11")
    perf_index = np.full(n_score, -1, dtype=np.int64)
    score_index = np.full(n_perf, -1, dtype=np.int64)
    m = alignment.matches
    if m is None:
        return s_status, perf_index, score_index
    both = (m.score_index >= 0) & (m.performance_index >= 0)
    sub = getattr(m, "substituted", None)
    sub = np.zeros(len(m), dtype=bool) if sub is None else np.asarray(sub, dtype=bool)
    si, pi = m.score_index[both], m.performance_index[both]
    perf_index[si] = pi
    score_index[pi] = si
    s_status[si] = np.where(sub[both], "substituted", "matched")
    return s_status, perf_index, score_index


def _inverse_map(tmap: TimeMap, t: np.ndarray) -> np.ndarray:
    """Score seconds of performance times (inverse of the monotone map, mean-slope extrapolation)."""
    s, p = tmap.score_time, tmap.performance_time
    k = max(tmap.slope, 1e-6)
    out = np.interp(t, p, s) if len(s) > 1 else s[0] + (t - p[0]) / k
    out = np.where(t < p[0], s[0] + (t - p[0]) / k, out)
    return np.where(t > p[-1], s[-1] + (t - p[-1]) / k, out)


def _group_mean(values: np.ndarray, groups: np.ndarray, n: int, use: np.ndarray) -> np.ndarray:
    sums = np.bincount(groups[use], weights=values[use], minlength=n)
    counts = np.bincount(groups[use], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _group_median(values: np.ndarray, groups: np.ndarray, n: int, use: np.ndarray) -> np.ndarray:
    out = np.full(n, np.nan)
    idx = np.flatnonzero(use)
    if len(idx) == 0:
        return out
    order = idx[np.lexsort((values[idx], groups[idx]))]
    g = groups[order]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(g) > 0]))
    ends = np.append(starts[1:], len(order))
    for st, en in zip(starts, ends, strict=True):  # one iteration per played chord
        out[g[st]] = float(np.median(values[order[st:en]]))
    return out


def _window_mean(pos: np.ndarray, values: np.ndarray, use: np.ndarray, half: float) -> np.ndarray:
    """Mean of ``values[use]`` within ``half`` of each position (``pos`` sorted)."""
    v = np.where(use, values, 0.0)
    cs = np.concatenate([[0.0], np.cumsum(v)])
    cn = np.concatenate([[0], np.cumsum(use)])
    lo = np.searchsorted(pos, pos - half, side="left")
    hi = np.searchsorted(pos, pos + half, side="right")
    n = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (cs[hi] - cs[lo]) / np.maximum(n, 1), np.nan)


def _tempo_lines(
    ev_s: np.ndarray, ev_p: np.ndarray, ev_beat: np.ndarray, cfg: AlignedConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Per chord, the intercept and slope of the local tempo line (robust, leave-one-out)."""
    has = np.isfinite(ev_p)
    x, y = ev_s[has], ev_p[has]
    fit_id = np.full(len(ev_s), -1, dtype=np.int64)
    fit_id[has] = np.arange(has.sum())
    half = cfg.tempo_window * ev_beat
    w = np.ones(len(x))
    a, b = local_linear_fit(x, y, w, ev_s, half, fit_id)
    if has.sum() >= 3 and np.isfinite(b).all():
        resid = (y - (a[has] + b[has] * x)) / (b[has] * ev_beat[has])
        scale = 1.4826 * float(np.median(np.abs(resid)))
        w = (np.abs(resid) <= max(cfg.outlier_scale * scale, cfg.outlier_beats)).astype(np.float64)
        if w.sum() >= 2:
            a, b = local_linear_fit(x, y, w, ev_s, half, fit_id)
    return a, b


def build_aligned(
    performance: NoteArray, score: ScoreData, alignment: Alignment, cfg: AlignedConfig
) -> AlignedPerformance:
    """The :class:`AlignedPerformance` of an alignment of ``performance`` to ``score`` (no caching)."""
    sn, pn = score.notes, performance
    n_s, n_p = len(sn), len(pn)
    s_status, perf_index, score_index = status_arrays(alignment, n_s, n_p)
    played = perf_index >= 0
    matched = s_status == "matched"
    pi = np.clip(perf_index, 0, max(n_p - 1, 0))

    # score context
    chords = group_onsets(sn.onset, cfg.chord_gap)
    chord, n_ch = chords.event, len(chords)
    ev_s = chords.time
    beat_sec = score.beat_duration(sn.onset)
    ev_beat = score.beat_duration(ev_s)
    top = sn.pitch == np.maximum.reduceat(sn.pitch, np.flatnonzero(np.diff(chord, prepend=-1)))[chord]
    # notes are sorted by onset then pitch, so each chord's notes are contiguous
    bottom = sn.pitch == np.minimum.reduceat(sn.pitch, np.flatnonzero(np.diff(chord, prepend=-1)))[chord]
    beat = score.beat_position(sn.onset)
    span = getattr(alignment, "played_span", None)
    in_span = np.ones(n_s, dtype=bool)
    if span is not None:
        in_span = (sn.onset >= span[0] - cfg.chord_gap) & (sn.onset <= span[1] + cfg.chord_gap)

    # performed values per score note
    perf_on = np.where(played, pn.onset[pi] if n_p else np.nan, np.nan)
    perf_dur = np.where(played, pn.duration[pi] if n_p else np.nan, np.nan)
    vel = np.where(played, pn.velocity[pi].astype(np.float64) if n_p else np.nan, np.nan)

    # local tempo from matched chords
    ev_p = _group_median(perf_on, chord, n_ch, matched)
    a, b = _tempo_lines(ev_s, ev_p, ev_beat, cfg)
    if not np.isfinite(b).all():  # fewer than two matched chords: the alignment's own map
        tm = alignment.time_map
        b = np.full(n_ch, tm.slope)
        a = tm(ev_s) - b * ev_s
    slope_n = b[chord]
    expected = np.where(played, a[chord] + slope_n * sn.onset, np.nan)
    dev = (perf_on - expected) / (slope_n * beat_sec)
    log_slope = np.log(b)
    played_ch = np.isfinite(ev_p)
    mean_log = float(log_slope[played_ch].mean()) if played_ch.any() else float(log_slope.mean())
    local_tempo = -(log_slope[chord] - mean_log)

    # inter-onset ratio to the next played chord
    nxt = np.full(n_ch, -1, dtype=np.int64)
    later = np.flatnonzero(played_ch)
    pos = np.searchsorted(later, np.arange(n_ch), side="right")
    has_next = pos < len(later)
    nxt[has_next] = later[pos[has_next]]
    with np.errstate(invalid="ignore", divide="ignore"):
        ioi_ev = np.where(
            played_ch & (nxt >= 0), (ev_p[np.maximum(nxt, 0)] - ev_p) / (b * (ev_s[np.maximum(nxt, 0)] - ev_s)), np.nan
        )
    ioi_ratio = np.where(played, ioi_ev[chord], np.nan)

    # dynamics, articulation, pedal, asynchrony
    vel_local = vel - _window_mean(beat, vel, played, cfg.velocity_window)
    vel_chord = vel - _group_mean(vel, chord, n_ch, played)[chord]
    with np.errstate(invalid="ignore", divide="ignore"):
        artic = np.where(played & (sn.duration > 1e-6), perf_dur / (sn.duration * slope_n), np.nan)
    pedal_s = np.zeros(n_s, dtype=bool)
    if played.any():
        pedal_s[played] = pn.pedal_down(perf_on[played])
    asyn = perf_on - ev_p[chord]

    score_notes = ScoreNotes(
        status=s_status,
        perf_index=perf_index,
        pitch=sn.pitch.astype(np.int64),
        onset=sn.onset.copy(),
        duration=sn.duration.copy(),
        duration_beats=score.beat_position(sn.offset) - beat,
        beat=beat,
        bar=score.bar_index(sn.onset),
        beat_in_bar=score.beat_in_bar(sn.onset),
        chord=chord.astype(np.int64),
        top_voice=top,
        bottom_voice=bottom,
        in_played_span=in_span,
        perf_onset=perf_on,
        expected_onset=expected,
        onset_dev_beats=dev,
        local_tempo=local_tempo,
        ioi_ratio=ioi_ratio,
        velocity=vel,
        velocity_local=vel_local,
        velocity_chord=vel_chord,
        articulation=artic,
        pedal=pedal_s,
        asynchrony=asyn,
    )

    p_status = np.full(n_p, "extra", dtype="<U11")
    has_score = score_index >= 0
    p_status[has_score] = s_status[score_index[has_score]]
    s_time = _inverse_map(alignment.time_map, pn.onset)
    # a played score note's bar is its score note's (a downbeat played early stays in its bar); extras by the map
    p_bar, p_beat = score.bar_index(s_time), score.beat_in_bar(s_time)
    p_bar[has_score] = score_notes.bar[score_index[has_score]]
    p_beat[has_score] = score_notes.beat_in_bar[score_index[has_score]]
    performed = PerformedNotes(
        status=p_status,
        score_index=score_index,
        pitch=pn.pitch.astype(np.int64),
        velocity=pn.velocity.astype(np.int64),
        onset=pn.onset.copy(),
        duration=pn.duration.copy(),
        score_time=s_time,
        bar=p_bar,
        beat_in_bar=p_beat,
        pedal=pn.pedal_down(pn.onset),
    )
    restarts = tuple((float(r.performance_time), float(r.score_time)) for r in getattr(alignment, "restarts", ()) or ())
    return AlignedPerformance(
        alignment=alignment,
        score_notes=score_notes,
        performed_notes=performed,
        bar_numbers=tuple(score.bar_numbers),
        mean_tempo=float(np.exp(mean_log)),
        restarts=restarts,
        played_span=None if span is None else (float(span[0]), float(span[1])),
        flags=tuple(alignment.flags),
        score_source=score.source,
        performance_source=performance.source,
    )
