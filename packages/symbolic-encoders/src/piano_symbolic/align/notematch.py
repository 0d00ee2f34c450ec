"""Note-level matching near a time map, and time-map anchors from note matches.

:func:`match_by_pitch` matches, pitch by pitch, the score notes (at their predicted performance times) to the
performed notes with a banded edit-distance DP: a match costs ``|predicted - performed| / threshold`` (only
allowed under the threshold), leaving a note unmatched costs ``skip``. Missing, extra and repeated notes,
trills and pedalled overlaps are handled because each pitch is its own monotone sequence.

:func:`anchors_from_matches` turns matches into (score onset, performance time) anchors, one per score onset
event, and keeps the heaviest monotone subset (weighted longest increasing subsequence) so that a stray match
cannot fold the map back.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit
from piano_data.midi import NoteArray

from piano_symbolic.align.features import OnsetEvents
from piano_symbolic.align.types import TimeMap

__all__ = [
    "anchors_from_matches",
    "displaced_anchors",
    "match_by_pitch",
    "monotone_subset",
    "pitch_rarity",
    "substitutions",
]


@njit(cache=True, nogil=True)
def _match_sequences(q, t, thr, skip):  # pragma: no cover - compiled
    """Monotone matching of predicted times ``q [a]`` to performed times ``t [b]`` (both sorted)."""
    a, b = q.shape[0], t.shape[0]
    lo = np.empty(a + 1, np.int64)
    hi = np.empty(a + 1, np.int64)
    lo[0] = 0
    for i in range(1, a + 1):
        lo[i] = np.searchsorted(t, q[i - 1] - thr)
        hi[i] = np.searchsorted(t, q[i - 1] + thr, side="right")
    # row i must reach the columns the next row may match from (diagonal moves), and rows must overlap
    # (vertical moves): extend each row to the end of the next row's window
    for i in range(a):
        hi[i] = hi[i + 1]
    hi[a] = b
    for i in range(1, a + 1):
        hi[i] = max(hi[i], hi[i - 1])
        lo[i] = min(max(lo[i], lo[i - 1]), hi[i - 1])
    offs = np.zeros(a + 2, np.int64)
    for i in range(a + 1):
        offs[i + 1] = offs[i] + hi[i] - lo[i] + 1
    cost = np.empty(offs[a + 1], np.float64)
    move = np.empty(offs[a + 1], np.int8)  # 0 match, 1 skip score note, 2 skip performed note
    for i in range(a + 1):
        for j in range(lo[i], hi[i] + 1):
            k = offs[i] + j - lo[i]
            if i == 0 and j == 0:
                cost[k] = 0.0
                move[k] = -1
                continue
            best = np.inf
            mv = -1
            if j > lo[i]:
                best = cost[k - 1] + skip
                mv = 2
            if i > 0 and lo[i - 1] <= j <= hi[i - 1]:
                v = cost[offs[i - 1] + j - lo[i - 1]] + skip
                if v < best:
                    best, mv = v, 1
            if i > 0 and j > 0 and lo[i - 1] <= j - 1 <= hi[i - 1]:
                d = abs(q[i - 1] - t[j - 1])
                if d < thr:
                    v = cost[offs[i - 1] + j - 1 - lo[i - 1]] + d / thr
                    if v < best:
                        best, mv = v, 0
            cost[k] = best
            move[k] = mv
    pairs = np.empty((min(a, b), 2), np.int64)
    n = 0
    i, j = a, b
    while i > 0 or j > 0:
        mv = move[offs[i] + j - lo[i]]
        if mv == 0:
            pairs[n, 0] = i - 1
            pairs[n, 1] = j - 1
            n += 1
            i -= 1
            j -= 1
        elif mv == 1:
            i -= 1
        else:
            j -= 1
    return pairs[:n][::-1].copy()


def match_by_pitch(
    predicted: np.ndarray,
    score_pitch: np.ndarray,
    perf_onset: np.ndarray,
    perf_pitch: np.ndarray,
    threshold: float,
    skip: float = 0.5,
) -> np.ndarray:
    """Match score notes (predicted performance onsets) to performed notes of the same pitch.

    Returns ``[K, 2]`` (score index, performance index) pairs, sorted by score index.
    """
    out = []
    for pitch in np.intersect1d(score_pitch, perf_pitch):
        si = np.flatnonzero(score_pitch == pitch)
        si = si[np.argsort(predicted[si], kind="stable")]
        pi = np.flatnonzero(perf_pitch == pitch)
        pi = pi[np.argsort(perf_onset[pi], kind="stable")]
        pr = _match_sequences(
            np.ascontiguousarray(predicted[si], dtype=np.float64),
            np.ascontiguousarray(perf_onset[pi], dtype=np.float64),
            float(threshold),
            float(skip),
        )
        if len(pr):
            out.append(np.stack([si[pr[:, 0]], pi[pr[:, 1]]], axis=1))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(out)
    return pairs[np.argsort(pairs[:, 0], kind="stable")]


@njit(cache=True, nogil=True)
def _weighted_lis(values, weights):  # pragma: no cover - compiled
    """Indices of the max-weight subsequence with non-decreasing ``values`` (O(n^2) worst, windowed)."""
    n = values.shape[0]
    best = np.zeros(n)
    prev = np.full(n, -1, np.int64)
    for i in range(n):
        best[i] = weights[i]
        lo = max(0, i - 256)  # anchors further back than 256 events cannot change the choice in practice
        for k in range(lo, i):
            if values[k] <= values[i] and best[k] + weights[i] > best[i]:
                best[i] = best[k] + weights[i]
                prev[i] = k
    end = np.argmax(best)
    out = np.empty(n, np.int64)
    m = 0
    while end >= 0:
        out[m] = end
        m += 1
        end = prev[end]
    return out[:m][::-1].copy()


def monotone_subset(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Indices (in order) of the heaviest subsequence whose ``values`` never decrease."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    return _weighted_lis(np.asarray(values, np.float64), np.asarray(weights, np.float64))


def anchors_from_matches(
    pairs: np.ndarray,
    score_events: OnsetEvents,
    perf_onset: np.ndarray,
    mode: Literal["min", "median", "mean"] = "median",
    predicted: np.ndarray | None = None,
    cluster_gap: float = 0.05,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (score time, performance time) anchor per score event holding matches, made monotone.

    The matched onsets of an event are split into clusters (gaps over ``cluster_gap``); the biggest cluster
    wins, ties going to the one nearest the event's ``predicted`` time, so that one stray match (an ornament,
    a neighbouring repeated note) cannot move the anchor. With ``weights`` (one per score note) a cluster's
    size is the sum of its notes' weights. Returns anchor score times, anchor performance times
    and a boolean mask over ``pairs``: True for matches inside the chosen cluster of a kept anchor.
    """
    if len(pairs) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)
    ev = score_events.event[pairs[:, 0]]
    times = perf_onset[pairs[:, 1]]
    order = np.lexsort((times, ev))
    ev, times = ev[order], times[order]
    new_cluster = np.concatenate([[True], (np.diff(ev) != 0) | (np.diff(times) > cluster_gap)])
    cluster = np.cumsum(new_cluster) - 1
    c_start = np.flatnonzero(new_cluster)
    c_size = np.diff(np.append(c_start, len(times)))
    if weights is not None:  # a cluster's weight: the sum of its notes' weights
        c_weight = np.add.reduceat(np.asarray(weights, np.float64)[pairs[order, 0]], c_start)
    else:
        c_weight = c_size.astype(np.float64)
    c_event = ev[c_start]
    c_median = np.array([np.median(times[s : s + n]) for s, n in zip(c_start, c_size, strict=True)])
    pred = score_events.time[c_event] if predicted is None else predicted[c_event]
    # best cluster per event: biggest, then nearest the prediction
    pick = np.lexsort((np.abs(c_median - pred), -c_weight, c_event))
    first = np.concatenate([[True], np.diff(c_event[pick]) != 0])
    chosen = pick[first]  # cluster ids, ordered by event
    if mode == "min":
        value = times[c_start[chosen]]
    elif mode == "mean":
        value = np.add.reduceat(times, c_start)[chosen] / c_size[chosen]
    else:
        value = c_median[chosen]
    keep = monotone_subset(value, c_weight[chosen])
    kept_clusters = np.zeros(len(c_start), dtype=bool)
    kept_clusters[chosen[keep]] = True
    inlier = np.zeros(len(pairs), dtype=bool)
    inlier[order] = kept_clusters[cluster]
    return score_events.time[c_event[chosen[keep]]], value[keep], inlier


def displaced_anchors(
    score_time: np.ndarray, perf_time: np.ndarray, max_dev: float, ratio: float, width: int = 3
) -> np.ndarray:
    """Anchors that sit more than ``max_dev`` seconds off the line between their two neighbours, with the
    tempo faster than ``ratio`` x the local tempo on one side and slower than
    1 / ``ratio`` x on the other (the local tempo: the median segment tempo over ``width`` anchors each
    way): a match of a neighbouring same-pitch note (a displaced anchor bends the map
    both ways; a fermata or a ritardando slows only one side). Boolean mask over the anchors."""
    s, p = np.asarray(score_time, np.float64), np.asarray(perf_time, np.float64)
    out = np.zeros(len(s), dtype=bool)
    if len(s) < 5:
        return out
    k = np.arange(1, len(s) - 1)
    dev = p[k] - (p[k - 1] + (p[k + 1] - p[k - 1]) * (s[k] - s[k - 1]) / (s[k + 1] - s[k - 1]))
    left = (p[k] - p[k - 1]) / (s[k] - s[k - 1])
    right = (p[k + 1] - p[k]) / (s[k + 1] - s[k])
    seg = np.diff(p) / np.diff(s)  # the tempo of each segment; the local tempo: their median around k
    pad = np.pad(seg, width, mode="edge")
    local = np.median(np.lib.stride_tricks.sliding_window_view(pad, 2 * width)[k], axis=1)
    fast, slow = local * ratio, local / ratio
    bent = ((left > fast) & (right < slow)) | ((left < slow) & (right > fast))
    out[k] = bent & (np.abs(dev) > max_dev)
    return out


def pitch_rarity(onset: np.ndarray, pitch: np.ndarray, window: float) -> np.ndarray:
    """Per note, 1 / the number of notes of its pitch starting within ``window`` s of it (itself included):
    a melody note counts fully, a note of a repeated accompaniment figure (where one dropped or added note
    makes every match shift by one) counts little."""
    out = np.ones(len(onset), dtype=np.float64)
    if window <= 0:
        return out
    for q in np.unique(pitch):
        idx = np.flatnonzero(pitch == q)
        o = np.sort(onset[idx])
        order = np.argsort(onset[idx], kind="stable")
        n = np.searchsorted(o, o + window, side="right") - np.searchsorted(o, o - window, side="left")
        out[idx[order]] = 1.0 / n
    return out


def substitutions(
    score: NoteArray,
    perf: NoteArray,
    pairs: np.ndarray,
    tmap: TimeMap,
    span: tuple[float, float] | None = None,
    window: float = 0.12,
    semitones: int = 2,
) -> np.ndarray:
    """Wrong notes: ``[S, 2]`` (score index, performance index) pairs of a score note left unmatched and an
    unmatched performed note played within ``window`` s of its predicted time (``tmap``) and 1..``semitones``
    semitones away. Greedy, nearest first (time, then pitch); each note in at most one pair. Score notes
    outside ``span`` (score seconds; None: all) are not paired."""
    pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
    free_s = np.ones(len(score), dtype=bool)
    free_s[pairs[:, 0]] = False
    if span is not None:
        free_s &= (score.onset >= span[0] - 1e-9) & (score.onset <= span[1] + 1e-9)
    free_p = np.ones(len(perf), dtype=bool)
    free_p[pairs[:, 1]] = False
    si, pi = np.flatnonzero(free_s), np.flatnonzero(free_p)
    if len(si) == 0 or len(pi) == 0:
        return np.zeros((0, 2), np.int64)
    pi = pi[np.argsort(perf.onset[pi], kind="stable")]
    p_on = perf.onset[pi]
    pred = tmap(score.onset[si])
    lo = np.searchsorted(p_on, pred - window)
    hi = np.searchsorted(p_on, pred + window, side="right")
    cand = []
    for k in np.flatnonzero(hi > lo):
        js = pi[lo[k] : hi[k]]
        dp = np.abs(perf.pitch[js].astype(np.int64) - int(score.pitch[si[k]]))
        ok = (dp >= 1) & (dp <= semitones)
        for j, d in zip(js[ok], dp[ok], strict=True):
            cand.append((abs(float(perf.onset[j]) - float(pred[k])) / window + d / (semitones + 1), si[k], j))
    cand.sort()
    used_s, used_p, out = set(), set(), []
    for _, s, p in cand:
        if s in used_s or p in used_p:
            continue
        used_s.add(s)
        used_p.add(p)
        out.append((s, p))
    out.sort()
    return np.array(out, dtype=np.int64).reshape(-1, 2)
