"""Restarts: the player stops, goes back in the score and plays on (a new take).

A monotone alignment can follow only one take of the music played twice. The other take's notes are left
unmatched, as a run of consecutive unmatched performed notes: either the end of the earlier take (the map
already follows the take that continues) or the start of the later one (the map follows the take that was
abandoned). :func:`find_takes` finds such runs, locates each one in the score near where the map is at that
moment (a subsequence DTW of its onset events inside the score, then pitch-wise note matching) and accepts it
as a take when most of its notes match score music that the map has already placed elsewhere in the
performance. A take the map does not follow yet replaces the map's matches of its score span; the caller then
re-matches once so that the map follows the take that continues.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from piano_data.midi import NoteArray

from piano_symbolic.align.dtw import normalize_rows, subsequence_dtw
from piano_symbolic.align.features import OnsetEvents, event_features, group_onsets
from piano_symbolic.align.notematch import anchors_from_matches, match_by_pitch
from piano_symbolic.align.types import Restart, TimeMap

__all__ = ["Takes", "find_takes", "follow_restarts", "restart_points", "takes_restarts", "unmatched_runs"]


@dataclass(frozen=True)
class Takes:
    """What :func:`find_takes` found: the restarts, the note pairs after moving the replayed score spans to
    the takes that continue (``changed``: whether any pair moved) and the score position of each performed note
    of an abandoned take (``abandoned``: ``[K, 2]`` (score index, performance index) pairs)."""

    restarts: tuple[Restart, ...]
    pairs: np.ndarray
    changed: bool
    abandoned: np.ndarray


def unmatched_runs(
    onset: np.ndarray, matched: np.ndarray, min_notes: int, max_gap: int = 1, pause: float = 0.5
) -> list[np.ndarray]:
    """Runs of performed notes (indices in onset order) that are almost all unmatched: consecutive unmatched
    notes, bridging at most ``max_gap`` matched notes between two of them, split where no note starts for
    ``pause`` seconds (where one take ends and the next begins); runs of at least ``min_notes`` unmatched
    notes."""
    order = np.argsort(onset, kind="stable")
    free = ~matched[order]
    runs = []
    k, n = 0, len(order)
    while k < n:
        if not free[k]:
            k += 1
            continue
        members = [k]
        j = k + 1
        gap = 0
        while j < n:
            if onset[order[j]] - onset[order[j - 1]] > pause:
                break
            if free[j]:
                members.append(j)
                gap = 0
            else:
                gap += 1
                if gap > max_gap:
                    break
            j += 1
        if len(members) >= min_notes:
            runs.append(order[np.array(members)])
        k = members[-1] + 1
    return runs


def _locate(
    score: NoteArray,
    sev: OnsetEvents,
    score_feat: np.ndarray,
    perf: NoteArray,
    notes: np.ndarray,
    around: float,
    window: float,
    perf_gap: float,
    skip: float,
) -> np.ndarray:
    """Score notes matched by the performed ``notes`` (indices, onset order), searched within ``window`` score
    seconds of ``around``: ``[K, 2]`` (score index, performance index) pairs."""
    lo = int(np.searchsorted(sev.time, around - window))
    hi = int(np.searchsorted(sev.time, around + window, side="right"))
    if hi - lo < 2:
        return np.zeros((0, 2), np.int64)
    on = perf.onset[notes]
    pev = group_onsets(on, perf_gap)
    sub = NoteArray.from_arrays(on, on + 0.1, perf.pitch[notes], perf.velocity[notes])
    q = normalize_rows(event_features(sub, pev))
    path, _ = subsequence_dtw(q, score_feat[lo:hi], step_penalty=0.2, gap_cost=0.5)
    local = TimeMap.from_pairs(sev.time[lo + path[:, 0]], pev.time[path[:, 1]])
    s0, s1 = sev.time[lo + path[0, 0]], sev.time[lo + path[-1, 0]]
    cand = np.flatnonzero((score.onset >= s0 - 0.5) & (score.onset <= s1 + 0.5))
    if len(cand) == 0:
        return np.zeros((0, 2), np.int64)
    pairs = np.zeros((0, 2), np.int64)
    for thr in (0.6, 0.25):
        found = match_by_pitch(local(score.onset[cand]), score.pitch[cand], on, perf.pitch[notes], thr, skip)
        if len(found) < 2:
            return pairs
        found = np.stack([cand[found[:, 0]], notes[found[:, 1]]], axis=1)
        s_anchor, p_anchor, inlier = anchors_from_matches(found, sev, perf.onset, "median", None, 0.15)
        pairs = found[inlier]
        if len(s_anchor) < 2:
            return pairs
        local = TimeMap.from_pairs(s_anchor, p_anchor)
    return pairs


def restart_points(
    perf_onset: np.ndarray,
    score_pos: np.ndarray,
    min_back: float = 1.0,
    memory: float = 10.0,
    confirm: int = 8,
    agree: float = 0.8,
    pause_search: float = 3.0,
) -> list[Restart]:
    """Where the performance goes back in the score: ``score_pos`` is the score time of each performed note (NaN
    where unknown). A restart is a note whose score position, and at least ``agree`` of the next ``confirm``
    known positions, lie more than ``min_back`` score seconds before the furthest position of the last
    ``memory`` performance seconds; detection resumes once the playing passes that furthest position again.
    The restart's performance time is then moved to the note after the longest pause in the ``pause_search``
    seconds before it (or the second after it), when that pause is longer than 0.3 s (a player stops before
    going back); its score time is the position of the first known note from there."""
    known = np.flatnonzero(np.isfinite(score_pos))
    known = known[np.argsort(perf_onset[known], kind="stable")]
    t, s = perf_onset[known], score_pos[known]
    out: list[Restart] = []
    start = 0
    k = 1
    while k < len(t):
        lo = int(np.searchsorted(t, t[k] - memory))
        reach = float(np.max(s[max(lo, start) : k])) if k > max(lo, start) else -np.inf
        if s[k] < reach - min_back and np.mean(s[k : k + confirm] < reach) >= agree:
            near = np.sort(perf_onset[(perf_onset >= t[k] - pause_search) & (perf_onset <= t[k] + 1.0)])
            at = float(t[k])
            if len(near) > 1 and np.max(np.diff(near)) > 0.3:
                at = float(near[int(np.argmax(np.diff(near))) + 1])
            first = int(np.searchsorted(t, at - 1e-9))
            out.append(Restart(at, float(s[min(first, len(t) - 1)])))
            back = np.flatnonzero(s[k:] >= reach - min_back)
            k = k + int(back[0]) if len(back) else len(t)
            start = k
            continue
        k += 1
    return out


def find_takes(
    score: NoteArray,
    perf: NoteArray,
    sev: OnsetEvents,
    tmap: TimeMap,
    pairs: np.ndarray,
    *,
    min_notes: int = 8,
    window: float = 30.0,
    min_share: float = 0.7,
    perf_gap: float = 0.03,
    skip: float = 0.5,
    max_rounds: int = 3,
) -> Takes:
    """Find the takes left unmatched by a monotone alignment (see module doc); returns the restarts (from
    :func:`restart_points` over the final matches and the abandoned takes' notes) and the pairs with each
    replayed span moved to the take that continues.

    A run of at least ``min_notes`` unmatched performed notes is a take when at least ``min_share`` of them (and
    ``min_notes``) match score music within ``window`` score seconds of where the map is at that moment, at a
    tempo within a factor 2 of the map's, and the map already holds at least half as many matches of that score
    span in the ``window`` performance seconds before the run (the run is a later take: it replays earlier
    music) or after it (the run is the end of an abandoned take, starting about where the map is). Notes a run
    leaves unmatched are searched again (up to ``max_rounds`` times), so that the end of one take and the start
    of the next, left unmatched together, are both found."""
    pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
    none = np.zeros((0, 2), np.int64)
    if len(pairs) < 2 * min_notes:
        return Takes((), pairs, False, none)
    score_feat = normalize_rows(event_features(score, sev))
    slope = max(tmap.slope, 1e-6)
    tried: set[tuple[int, int]] = set()
    abandoned: list[np.ndarray] = []  # (score, performance) pairs of takes the map does not follow
    changed = False
    for _ in range(max_rounds):
        matched = np.zeros(len(perf), dtype=bool)
        matched[pairs[:, 1]] = True
        for block in abandoned:
            matched[block[:, 1]] = True
        runs = [r for r in unmatched_runs(perf.onset, matched, min_notes) if (r[0], r[-1]) not in tried]
        if not runs:
            break
        for run in runs:
            tried.add((int(run[0]), int(run[-1])))
            pa, pb = float(perf.onset[run[0]]), float(perf.onset[run[-1]])
            around = float(np.interp(pa, tmap.performance_time, tmap.score_time))
            found = _locate(score, sev, score_feat, perf, run, around, window, perf_gap, skip)
            if len(found) < min_notes:
                continue
            s_on, p_on = score.onset[found[:, 0]], perf.onset[found[:, 1]]
            inside = run[(perf.onset[run] >= p_on.min()) & (perf.onset[run] <= p_on.max())]
            if len(found) < min_share * len(inside):  # most notes of the stretch it covers must match
                continue
            pa, pb = float(p_on.min()), float(p_on.max())
            r0, r1 = float(s_on.min()), float(s_on.max())
            if r1 - r0 <= 0 or not 0.5 <= (p_on.max() - p_on.min()) / ((r1 - r0) * slope) <= 2.0:
                continue
            other = pairs[(score.onset[pairs[:, 0]] >= r0) & (score.onset[pairs[:, 0]] <= r1)]
            o_on = perf.onset[other[:, 1]]
            before = other[(o_on < pa - 0.5) & (o_on > pa - window)]
            after = other[(o_on > pb + 0.5) & (o_on < pb + window)]
            tol = 2.0 / slope  # two performance seconds, in score seconds
            p_all, s_all = perf.onset[pairs[:, 1]], score.onset[pairs[:, 0]]
            nxt, prv = p_all > pb, p_all < pa
            next_s = float(s_all[nxt][np.argmin(p_all[nxt])]) if nxt.any() else np.inf
            prev_s = float(s_all[prv][np.argmax(p_all[prv])]) if prv.any() else -np.inf
            if len(before) >= 0.5 * len(found) and r0 < prev_s - 0.5 * tol and abs(next_s - r1) <= tol:
                # a later take (it replays music played just before and the map continues from its end): the
                # map must follow it
                keep = ~np.isin(pairs[:, 0], before[:, 0]) & ~np.isin(pairs[:, 0], found[:, 0])
                abandoned.append(before)
                pairs = np.concatenate([pairs[keep], found])
                pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
                changed = True
            elif len(after) >= 0.5 * len(found) and abs(r0 - prev_s) <= tol and next_s < r1 - 0.5 * tol:
                # the end of an abandoned take: it goes on from where the map was, and the map goes back after it
                abandoned.append(found)
    if not abandoned:
        return Takes((), pairs, changed, none)
    gone = np.concatenate(abandoned)
    return Takes(tuple(takes_restarts(score, perf, pairs, gone, slope)), pairs, changed, gone)


def takes_restarts(
    score: NoteArray, perf: NoteArray, pairs: np.ndarray, abandoned: np.ndarray, slope: float, back: float = 1.5
) -> list[Restart]:
    """:func:`restart_points` over the score positions of the matched notes and of the abandoned takes' notes,
    going back at least ``back`` performance seconds (``back / slope`` score seconds)."""
    pos = np.full(len(perf), np.nan)
    for block in (abandoned, pairs):
        pos[block[:, 1]] = score.onset[block[:, 0]]
    return restart_points(perf.onset, pos, min_back=back / max(slope, 1e-6))


def follow_restarts(
    tmap: TimeMap,
    pairs: np.ndarray,
    score: NoteArray,
    perf: NoteArray,
    times: np.ndarray,
    restarts: tuple[Restart, ...],
    window: float = 30.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs without the abandoned takes' matches (a pair played in the ``window`` seconds before a restart, at
    or after the score time it goes back to), and predicted performance times of the score ``times`` for a last
    matching pass: the map of the remaining pairs, except just before each restart's score time, where the take
    that continues is extrapolated backwards with its own tempo (the player may have gone back a little further
    than its first matched note), as long as that stays after the restart."""
    keep = np.ones(len(pairs), dtype=bool)
    p_on, s_on = perf.onset[pairs[:, 1]], score.onset[pairs[:, 0]]
    for r in restarts:
        before = (p_on < r.performance_time - 0.05) & (p_on > r.performance_time - window)
        keep &= ~(before & (s_on >= r.score_time))
    pairs = pairs[keep]
    pred = tmap(times)
    for r in restarts:
        s1, p1 = r.score_time, float(tmap(np.array([r.score_time]))[0])
        right = (float(tmap(np.array([s1 + 4.0]))[0]) - p1) / 4.0
        back = p1 - right * (s1 - times)
        sel = (times < s1) & (back >= r.performance_time - 0.3) & (times > s1 - 8.0)
        pred[sel] = back[sel]
    return pairs, pred
