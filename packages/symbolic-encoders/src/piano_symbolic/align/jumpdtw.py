"""DTW that may jump back in the score: where a player stops and starts again earlier (a restart).

A monotone DTW has to spend the replayed music of a restart as extra performed events. :func:`jump_dtw` adds one
more move: from performed event ``i - 1`` at score event ``j'`` to performed event ``i`` at any score event
``j <= j' - 2``, at the cost ``jump_cost[i]`` (cheaper after a pause, where players go back). Start and end are
free in the score (the performance may be an excerpt). The jumps of the best path split the performance into
takes (:func:`path_takes`); the music each take plays up to where a later take starts again is the part the
time map follows.

Full matrix (``N x M`` float32 cells): for pieces whose event matrix fits ``max_cells``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numba import njit

from piano_symbolic.align.dtw import normalize_rows
from piano_symbolic.align.types import TimeMap

__all__ = ["Take", "jump_dtw", "path_takes"]


@njit(cache=True, nogil=True)
def _accumulate_jumps(cost, pen, gap, jump, free):  # pragma: no cover - compiled
    n, m = cost.shape
    acc = np.empty((n, m), dtype=np.float32)
    suffix = np.empty(m + 1, dtype=np.float32)
    inf = np.float32(np.inf)
    acc[0, 0] = cost[0, 0]
    for j in range(1, m):  # free: start anywhere in the score; else at its start
        acc[0, j] = cost[0, j] if free else acc[0, j - 1] + min(cost[0, j] + pen, gap)
    for i in range(1, n):
        suffix[m] = inf
        for j in range(m - 1, -1, -1):
            suffix[j] = min(suffix[j + 1], acc[i - 1, j])
        for j in range(m):
            c = cost[i, j]
            side = min(c + pen, gap)
            best = acc[i - 1, j] + side
            if j > 0:
                best = min(best, acc[i - 1, j - 1] + c)
                best = min(best, acc[i, j - 1] + side)
            if j + 2 <= m:
                best = min(best, suffix[j + 2] + c + jump[i])
            acc[i, j] = best
    return acc


@njit(cache=True, nogil=True)
def _backtrack_jumps(cost, acc, pen, gap, jump, end, free):  # pragma: no cover - compiled
    n, m = cost.shape
    path_i = np.empty(n + m, dtype=np.int64)
    path_j = np.empty(n + m, dtype=np.int64)
    i, j, k = n - 1, end, 0
    while True:
        path_i[k] = i
        path_j[k] = j
        k += 1
        if i == 0:
            if free or j == 0:
                break
            j -= 1
            continue
        c = cost[i, j]
        side = min(c + pen, gap)
        here = acc[i, j]
        tol = np.float32(1e-4) * max(np.float32(1.0), abs(here))
        if j > 0 and abs(acc[i - 1, j - 1] + c - here) <= tol:
            i, j = i - 1, j - 1
        elif abs(acc[i - 1, j] + side - here) <= tol:
            i = i - 1
        elif j > 0 and abs(acc[i, j - 1] + side - here) <= tol:
            j = j - 1
        else:  # a jump back: from the best cell at least two events later in the score
            best, arg = np.float32(np.inf), j + 2
            for jj in range(j + 2, m):
                if acc[i - 1, jj] < best:
                    best, arg = acc[i - 1, jj], jj
            i, j = i - 1, arg
    return path_i[:k][::-1].copy(), path_j[:k][::-1].copy()


def jump_dtw(
    perf_feat: np.ndarray,
    score_feat: np.ndarray,
    jump_cost: np.ndarray,
    step_penalty: float = 0.2,
    gap_cost: float = 0.5,
    free: bool = False,
) -> np.ndarray:
    """Best path of performed events ``perf_feat [N, D]`` through score events ``score_feat [M, D]`` (cosine
    cost) with diagonal, horizontal and vertical moves (``step_penalty``, capped at ``gap_cost`` as in
    :func:`piano_symbolic.align.dtw.dtw`) and jumps back in the score into performed event ``i`` at
    ``jump_cost[i]``. With ``free`` the path may start and end anywhere in the score (an excerpt), else it
    runs from the first score event to the last. Returns ``[L, 2]`` (performed event, score event) pairs, from
    the first performed event to the last."""
    x, y = normalize_rows(perf_feat), normalize_rows(score_feat)
    if len(x) == 0 or len(y) == 0:
        raise ValueError("jump_dtw needs two non-empty sequences")
    cost = np.ascontiguousarray(np.clip(1.0 - x @ y.T, 0.0, 2.0), dtype=np.float32)
    pen, gap = np.float32(step_penalty), np.float32(gap_cost)
    jump = np.ascontiguousarray(jump_cost, dtype=np.float32)
    acc = _accumulate_jumps(cost, pen, gap, jump, free)
    end = int(np.argmin(acc[-1])) if free else len(y) - 1
    pi, pj = _backtrack_jumps(cost, acc, pen, gap, jump, end, free)
    return np.stack([pi, pj], axis=1)


@dataclass(frozen=True)
class Take:
    """One take of a jump-DTW path: its path rows ``rows`` (a slice of the path), the first performed event and
    the score event it starts at."""

    rows: slice
    first_event: int
    score_event: int


def path_takes(path: np.ndarray) -> list[Take]:
    """Split a jump-DTW path where the score index goes back."""
    back = np.flatnonzero(np.diff(path[:, 1]) < 0) + 1
    bounds = [0, *back.tolist(), len(path)]
    return [Take(slice(a, b), int(path[a, 0]), int(path[a, 1])) for a, b in itertools.pairwise(bounds)]


def _take_ok(path: np.ndarray, takes: list[Take], k: int, score_time: np.ndarray, min_back: float) -> bool:
    """Whether the jump into take ``k`` is a restart: it goes back at least ``min_back`` score seconds, the take
    plays on at least to where the take before it stopped, and up to there it plays most score events in order
    (a jump into music that only resembles it has to skip forward to catch up)."""
    prev, take = takes[k - 1], takes[k]
    stop = int(path[prev.rows.stop - 1, 1])
    if score_time[stop] - score_time[take.score_event] < min_back:
        return False
    rows = path[take.rows]
    reach = np.flatnonzero(rows[:, 1] >= stop)
    if len(reach) == 0:
        return False
    part = rows[: reach[0] + 1]
    span = stop - take.score_event + 1
    played = len(np.unique(part[:, 1]))
    return played >= 0.7 * span and len(np.unique(part[:, 0])) <= 1.5 * span


def restart_takes(
    perf_feat: np.ndarray,
    score_feat: np.ndarray,
    perf_time: np.ndarray,
    score_time: np.ndarray,
    *,
    slope: float,
    jump_cost: float = 4.0,
    pause_jump_cost: float = 2.0,
    pause: float = 0.5,
    min_back: float = 1.0,
    rounds: int = 3,
    free: bool = False,
) -> tuple[np.ndarray, list[Take]]:
    """The jump-DTW path and its takes, keeping only jumps that are restarts (:func:`_take_ok`; ``min_back``
    performance seconds, ``slope`` performance seconds per score second): a rejected jump is forbidden and the
    path found again (up to ``rounds`` times; if jumps are still rejected then, one take: no restart). ``free``:
    see :func:`jump_dtw`."""
    gap_before = np.diff(perf_time, prepend=perf_time[0])
    cost = np.where(gap_before >= pause, pause_jump_cost, jump_cost).astype(np.float32)
    back = min_back / max(slope, 1e-6)
    for _ in range(rounds):
        path = jump_dtw(perf_feat, score_feat, cost, free=free)
        takes = path_takes(path)
        bad = [k for k in range(1, len(takes)) if not _take_ok(path, takes, k, score_time, back)]
        if not bad:
            return path, takes
        cost[[takes[k].first_event for k in bad]] = np.inf
    return path, takes[:1]  # jumps still rejected: no restarts


def takes_prediction(path: np.ndarray, takes: list[Take], perf_time: np.ndarray, score_time: np.ndarray) -> np.ndarray:
    """Performance time of every score event through the takes that continue: each take is followed from where
    it starts in the score up to where a later take starts (a monotone map; events outside extrapolated)."""
    starts = np.array([score_time[t.score_event] for t in takes])
    s_parts, p_parts = [], []
    for k, take in enumerate(takes):
        rows = path[take.rows]
        own_end = float(starts[k + 1 :].min()) if k + 1 < len(takes) else np.inf
        s = score_time[rows[:, 1]]
        sel = (s >= starts[k]) & (s < own_end)
        s_parts.append(s[sel])
        p_parts.append(perf_time[rows[sel, 0]])
    s_all, p_all = np.concatenate(s_parts), np.concatenate(p_parts)
    return TimeMap.from_pairs(s_all, p_all)(score_time)
