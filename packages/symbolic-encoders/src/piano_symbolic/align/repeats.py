"""Skipped repeats: where in a repeated passage the performer's jump goes.

A performer who does not take a written-out repeat plays ``A e2`` where the score has ``A e1 A e2``. Any
alignment that skips ``len(e1 A)`` events somewhere inside the repeated material explains the performance
equally well: the notes are the same, so the data cannot say whether the first or the second pass was played.
A DTW puts the jump wherever its tie-breaking and small differences in the playing land it, so the skipped
beats can sit a whole repeat (tens of seconds) away from where an annotator puts them. (ASAP annotates such
performances by squeezing the skipped beats into one instant, at positions that differ between performances of
one piece: 0.06 to 0.93 of the way through the repeated music.)

:func:`place_jumps` finds each jump in a time map (a stretch of score time that takes almost no performance
time), checks with the score alone whether the skipped span is a repeat (the events before the jump recur,
pitch for pitch, one repeat later) and moves the jump to the middle of the interval of equally good
positions. The middle halves the largest possible error against any other choice of position; it is the
minimax placement when nothing in the notes prefers one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from piano_data.midi import NoteArray

from piano_symbolic.align.features import OnsetEvents
from piano_symbolic.align.types import TimeMap

__all__ = ["Jump", "PlacedJumps", "event_signatures", "find_jumps", "jump_predictions", "place_jumps", "repeat_run"]


@dataclass(frozen=True)
class Jump:
    """A stretch of the map from score event ``before`` to score event ``after`` played in almost no time."""

    before: int  # last score event played before the jump
    after: int  # first score event played after it


def event_signatures(score: NoteArray, events: OnsetEvents) -> np.ndarray:
    """One integer per score event: a hash of the set of pitches starting there."""
    bits = np.zeros((len(events), 2), dtype=np.uint64)
    p = score.pitch.astype(np.int64)
    np.bitwise_or.at(
        bits, (events.event, (p >= 64).astype(np.int64)), np.left_shift(np.uint64(1), (p % 64).astype(np.uint64))
    )
    return bits[:, 0] * np.uint64(0x9E3779B97F4A7C15) ^ bits[:, 1]


def find_jumps(
    tmap: TimeMap, events: OnsetEvents, min_score_s: float = 3.0, max_ratio: float = 0.3, merge_s: float = 1.0
) -> list[Jump]:
    """Stretches of at least ``min_score_s`` score seconds played in at most ``max_ratio`` times the time the
    map's mean tempo gives them (a skipped section; a slow passage takes longer, not shorter). Stray anchors
    inside a skip (notes of the skipped music matched by chance near the jump) are bridged: a stretch goes on
    while it stays that flat as a whole and no more than ``merge_s`` performance seconds pass between its flat
    parts."""
    s, p = tmap.score_time, tmap.performance_time
    if len(s) < 2:
        return []
    ratio = max_ratio * max(tmap.slope, 1e-6)
    flat = np.diff(p) <= ratio * np.diff(s)
    jumps = []
    k = 0
    while k < len(flat):
        if not flat[k]:
            k += 1
            continue
        end = k  # last flat segment of the stretch
        j = k + 1
        while j < len(flat) and p[j] - p[end + 1] < merge_s:
            if flat[j] and p[j + 1] - p[k] <= ratio * (s[j + 1] - s[k]):
                end = j
            j += 1
        s0, s1 = s[k], s[end + 1]
        if s1 - s0 >= min_score_s:
            before = int(np.searchsorted(events.time, s0, side="right") - 1)
            after = int(np.searchsorted(events.time, s1))
            if after - before > 1:
                jumps.append(Jump(max(before, 0), min(after, len(events) - 1)))
        k = end + 1
    return jumps


def repeat_run(sig: np.ndarray, jump: Jump, search: float = 0.3, window: int = 24, min_agree: float = 0.6):
    """The repeat behind ``jump``: ``(shift, first, last)`` such that event ``e`` and ``e + shift`` carry the
    same pitches for every ``e`` in ``first..last`` (the run around the jump), or None if the skipped span is
    not a repeat of the music before it. The shift is searched within ``search`` (a fraction) of the number of
    events the jump skips now."""
    n = len(sig)
    base = jump.after - jump.before - 1  # events skipped by the current jump
    here = np.arange(max(jump.before - window, 0), min(jump.before + window + 1, n))
    best, best_k = -1.0, 0
    for k in range(max(int(base * (1 - search)) - 8, 1), int(base * (1 + search)) + 9):
        e = here[here + k < n]
        if len(e) == 0:
            continue
        agree = float(np.mean(sig[e] == sig[e + k]))
        if agree > best:
            best, best_k = agree, k
    if best < min_agree:
        return None
    k = best_k
    same = np.zeros(n, dtype=bool)
    same[: n - k] = sig[: n - k] == sig[k:]
    # the run of "same" events around the jump, bridging isolated single mismatches
    centre = jump.before
    if not same[max(centre - 2, 0) : centre + 3].any():
        return None
    first = centre
    while first > 0 and (same[first - 1] or (first > 1 and same[first - 2])):
        first -= 1
    last = centre
    while last + 1 < n - k and (same[last + 1] or (last + 2 < n - k and same[last + 2])):
        last += 1
    return k, first, last


@dataclass(frozen=True)
class PlacedJumps:
    """What :func:`place_jumps` did: the new map and every jump found (score seconds skipped, from-to, after
    any move)."""

    time_map: TimeMap
    skipped: list[tuple[float, float]]


def place_jumps(tmap: TimeMap, score: NoteArray, events: OnsetEvents, min_score_s: float = 3.0) -> PlacedJumps:
    """Move every jump over a skipped repeat to the middle of its equally good positions (see module doc)."""
    jumps = find_jumps(tmap, events, min_score_s)
    if not jumps:
        return PlacedJumps(tmap, [])
    sig = event_signatures(score, events)
    s, p = tmap.score_time, tmap.performance_time
    t = events.time
    skipped = []
    for jump in jumps:
        found = repeat_run(sig, jump)
        if found is None:  # a cut: the skipped music is played nowhere, drop stray anchors inside it
            skipped.append((float(t[jump.before]), float(t[jump.after])))
            keep = ~((s > t[jump.before]) & (s < t[jump.after]))
            tmap = TimeMap(s[keep], p[keep])
            s, p = s[keep], p[keep]
            continue
        k, first, last = found
        # positions: the last first-pass event u may be first-1 .. last; the performer then resumes at u+k+1
        lo, hi = max(first - 1, 0), last
        u = lo + int(np.argmin(np.abs(t[lo : hi + 1] - 0.5 * (t[lo] + t[hi]))))  # the middle in score time
        cur = jump.before
        skipped.append((float(t[u]), float(t[min(u + k + 1, len(t) - 1)])))
        if u == cur:
            continue
        ev = np.searchsorted(t, s)  # anchors sit on score events
        on_event = (ev < len(t)) & (t[np.minimum(ev, len(t) - 1)] == s)
        stray = (s > t[cur]) & (s < t[jump.after])  # anchors inside the old jump
        s_new = s.copy()
        if u > cur:  # second-pass anchors after the jump, up to u + k, become first-pass anchors
            move = on_event & (s >= t[jump.after]) & (s <= t[min(u + k, len(t) - 1)])
            s_new[move] = t[ev[move] - k]
            keep = ~stray
        else:  # first-pass anchors after u become second-pass anchors
            move = on_event & (s > t[u]) & (s <= t[cur])
            s_new[move] = t[np.minimum(ev[move] + k, len(t) - 1)]
            keep = ~stray & ~(~move & (s >= t[jump.after]) & (s <= s_new[move].max(initial=-np.inf)))
        tmap = TimeMap.from_pairs(s_new[keep], p[keep])  # sorts by score time
        s, p = tmap.score_time, tmap.performance_time
    return PlacedJumps(tmap, skipped)


def jump_predictions(
    tmap: TimeMap, times: np.ndarray, skipped: list[tuple[float, float]], span: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted performance times of score ``times`` and which of them to match at all.

    ``tmap(times)``, except inside each skipped stretch ``(s0, s1)``, where the interpolated map smears the jump
    over the music next to it: there a time is extrapolated with the tempo of the near side (the map's mean
    slope over ``span`` score seconds), forwards from ``s0`` or backwards from ``s1``. An extrapolation that
    leaves the jump's performance times ``[map(s0), map(s1)]`` is not played there; a time with no valid
    extrapolation (the skipped music) is not matched."""
    out = tmap(times)
    use = np.ones(len(times), dtype=bool)
    for s0, s1 in skipped:
        inside = (times > s0) & (times < s1)
        if not inside.any():
            continue
        p0, p1 = tmap(np.array([s0, s1]))
        left = (p0 - tmap(np.array([s0 - span]))[0]) / span
        right = (tmap(np.array([s1 + span]))[0] - p1) / span
        t = times[inside]
        from_left, from_right = p0 + left * (t - s0), p1 - right * (s1 - t)
        ok_left, ok_right = from_left <= p1, from_right >= p0
        nearer_left = (t - s0) <= (s1 - t)
        out[inside] = np.where(ok_left & (nearer_left | ~ok_right), from_left, from_right)
        use[inside] = ok_left | ok_right
    return out, use
