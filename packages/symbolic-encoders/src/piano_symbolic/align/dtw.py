"""Dynamic time warping on feature sequences in bounded memory.

:func:`dtw` runs DTW inside a per-row column window (``lo[i] <= j < hi[i]``), storing only the cells of the
window. :func:`multiscale_dtw` finds that window FastDTW-style: it halves both sequences until the full matrix
fits ``max_cells``, aligns there, and refines each finer level inside the coarser path widened by ``radius``.
Memory is O((N + M) * radius) for long sequences instead of O(N * M).

The local cost is the cosine distance ``1 - <x_i, y_j>`` of L2-normalised, non-negative feature rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["dtw", "full_window", "multiscale_dtw", "normalize_rows", "subsequence_dtw"]


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """L2-normalise rows (all-zero rows stay zero) as contiguous float32."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norm, 1e-8), dtype=np.float32)


def full_window(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The window covering the whole ``n x m`` matrix."""
    return np.zeros(n, dtype=np.int64), np.full(n, m, dtype=np.int64)


@njit(cache=True, nogil=True)
def _accumulate(x, y, lo, hi, offs, pen, gap):  # pragma: no cover - compiled
    n = x.shape[0]
    d = x.shape[1]
    acc = np.empty(offs[n], dtype=np.float32)
    inf = np.float32(np.inf)
    for i in range(n):
        for j in range(lo[i], hi[i]):
            dot = np.float32(0.0)
            for k in range(d):
                dot += x[i, k] * y[j, k]
            c = np.float32(1.0) - dot
            if i == 0 and j == 0:
                acc[offs[i]] = c
                continue
            best = inf
            side = min(c + pen, gap)  # a non-diagonal step costs at most ``gap`` (a skipped or extra event)
            if i > 0:
                if lo[i - 1] <= j - 1 < hi[i - 1]:
                    best = min(best, acc[offs[i - 1] + j - 1 - lo[i - 1]] + c)
                if lo[i - 1] <= j < hi[i - 1]:
                    best = min(best, acc[offs[i - 1] + j - lo[i - 1]] + side)
            if j > lo[i]:
                best = min(best, acc[offs[i] + j - 1 - lo[i]] + side)
            acc[offs[i] + j - lo[i]] = best
    return acc


@njit(cache=True, nogil=True)
def _backtrack(x, y, acc, lo, hi, offs, n, m, pen, gap):  # pragma: no cover - compiled
    path_i = np.empty(n + m, dtype=np.int64)
    path_j = np.empty(n + m, dtype=np.int64)
    i, j = n - 1, m - 1
    k = 0
    inf = np.float32(np.inf)
    while True:
        path_i[k] = i
        path_j[k] = j
        k += 1
        if i == 0 and j == 0:
            break
        dot = np.float32(0.0)
        for k2 in range(x.shape[1]):
            dot += x[i, k2] * y[j, k2]
        c = np.float32(1.0) - dot
        side = min(c + pen, gap)
        best = inf
        bi, bj = i, j - 1
        if i > 0:
            if lo[i - 1] <= j - 1 < hi[i - 1]:
                v = acc[offs[i - 1] + j - 1 - lo[i - 1]] + c
                if v < best:
                    best, bi, bj = v, i - 1, j - 1
            if lo[i - 1] <= j < hi[i - 1]:
                v = acc[offs[i - 1] + j - lo[i - 1]] + side
                if v < best:
                    best, bi, bj = v, i - 1, j
        if j > lo[i]:
            v = acc[offs[i] + j - 1 - lo[i]] + side
            if v < best:
                best, bi, bj = v, i, j - 1
        i, j = bi, bj
    return path_i[:k][::-1].copy(), path_j[:k][::-1].copy()


def dtw(
    x: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
    step_penalty: float = 0.0,
    gap_cost: float = np.inf,
) -> tuple[np.ndarray, float]:
    """DTW of normalised features ``x [N, D]`` and ``y [M, D]`` inside a window.

    ``step_penalty`` is added to every horizontal or vertical step, so that among equally good paths (repeated
    identical chords) the one-to-one diagonal wins. ``gap_cost`` caps the cost of such a step (cell cost plus
    penalty): with a finite cap, a long run of score events the performer skipped (or of performed events
    the score lacks) costs ``gap_cost`` per event instead of its mismatch, so the path can jump over a cut
    instead of smearing it over the music around it. ``inf`` is plain DTW.

    Returns the warping path ``[L, 2]`` (monotone, from (0, 0) to (N-1, M-1)) and its total cost.
    """
    n, m = len(x), len(y)
    if n == 0 or m == 0:
        raise ValueError("dtw needs two non-empty sequences")
    if lo is None or hi is None:
        lo, hi = full_window(n, m)
    offs = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(hi - lo, out=offs[1:])
    pen, gap = np.float32(step_penalty), np.float32(gap_cost)
    x, y = normalize_rows(x), normalize_rows(y)
    acc = _accumulate(x, y, lo, hi, offs, pen, gap)
    pi, pj = _backtrack(x, y, acc, lo, hi, offs, n, m, pen, gap)
    return np.stack([pi, pj], axis=1), float(acc[-1])


def _pool2(x: np.ndarray) -> np.ndarray:
    if len(x) % 2:
        x = np.concatenate([x, x[-1:]])
    return normalize_rows(x[0::2] + x[1::2])


def _window_from_path(path: np.ndarray, n: int, m: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Project a coarse path to the finer level (x2) and widen it by ``radius`` cells each way."""
    nc = int(path[:, 0].max()) + 1
    cmin = np.full(nc, np.iinfo(np.int64).max, dtype=np.int64)
    cmax = np.zeros(nc, dtype=np.int64)
    np.minimum.at(cmin, path[:, 0], path[:, 1])
    np.maximum.at(cmax, path[:, 0], path[:, 1])
    rows = np.arange(n) // 2
    lo = 2 * cmin[np.minimum(rows, nc - 1)] - radius
    hi = 2 * cmax[np.minimum(rows, nc - 1)] + 2 + radius
    if radius > 0:  # widen vertically too: a row sees the columns of its neighbours
        pad_lo = np.pad(lo, radius, mode="edge")
        pad_hi = np.pad(hi, radius, mode="edge")
        lo = np.lib.stride_tricks.sliding_window_view(pad_lo, 2 * radius + 1).min(axis=1)
        hi = np.lib.stride_tricks.sliding_window_view(pad_hi, 2 * radius + 1).max(axis=1)
    lo = np.minimum.accumulate(np.clip(lo, 0, m)[::-1])[::-1].copy()
    hi = np.maximum.accumulate(np.clip(hi, 1, m))
    lo[0], hi[-1] = 0, m
    lo[1:] = np.minimum(lo[1:], hi[:-1])
    return lo.astype(np.int64), hi.astype(np.int64)


def multiscale_dtw(
    x: np.ndarray,
    y: np.ndarray,
    *,
    max_cells: int = 4_000_000,
    radius: int = 12,
    step_penalty: float = 0.0,
    gap_cost: float = np.inf,
) -> tuple[np.ndarray, float]:
    """DTW in bounded memory: full DTW when ``N * M <= max_cells``, else coarse-to-fine (see module doc)."""
    x, y = normalize_rows(x), normalize_rows(y)
    n, m = len(x), len(y)
    if n * m <= max_cells or min(n, m) <= 4 * radius + 4:
        return dtw(x, y, step_penalty=step_penalty, gap_cost=gap_cost)
    coarse, _ = multiscale_dtw(
        _pool2(x), _pool2(y), max_cells=max_cells, radius=radius, step_penalty=step_penalty, gap_cost=gap_cost
    )
    lo, hi = _window_from_path(coarse, n, m, radius)
    return dtw(x, y, lo, hi, step_penalty, gap_cost)


@njit(cache=True, nogil=True)
def _subsequence(x, y, pen, gap):  # pragma: no cover - compiled
    """Accumulated cost and moves of ``x [m]`` (query) inside ``y [n]`` (free start and end in ``y``)."""
    m, n, d = x.shape[0], y.shape[0], x.shape[1]
    acc = np.empty((m, n), dtype=np.float32)
    move = np.zeros((m, n), dtype=np.int8)  # 0 diagonal, 1 query step (same y), 2 reference step (same x)
    inf = np.float32(np.inf)
    for j in range(m):
        for i in range(n):
            dot = np.float32(0.0)
            for k in range(d):
                dot += x[j, k] * y[i, k]
            c = np.float32(1.0) - dot
            side = min(c + pen, gap)
            if j == 0:
                acc[j, i] = c  # free start anywhere in the reference
                move[j, i] = -1
                continue
            best = acc[j - 1, i] + side
            mv = 1
            if i > 0:
                v = acc[j - 1, i - 1] + c
                if v < best:
                    best, mv = v, 0
                v = acc[j, i - 1] + side
                if v < best:
                    best, mv = v, 2
            acc[j, i] = best if best < inf else inf
            move[j, i] = mv
    return acc, move


def subsequence_dtw(
    query: np.ndarray, reference: np.ndarray, step_penalty: float = 0.0, gap_cost: float = np.inf
) -> tuple[np.ndarray, float]:
    """Where ``query [M, D]`` fits best inside ``reference [N, D]``: a DTW path that covers the whole query but
    may start and end anywhere in the reference. Returns ``[L, 2]`` (reference index, query index) pairs,
    monotone, and the path's cost divided by the query length. Full matrix: for short queries."""
    q, r = normalize_rows(query), normalize_rows(reference)
    if len(q) == 0 or len(r) == 0:
        raise ValueError("subsequence_dtw needs two non-empty sequences")
    acc, move = _subsequence(q, r, np.float32(step_penalty), np.float32(gap_cost))
    j, i = len(q) - 1, int(np.argmin(acc[-1]))
    cost = float(acc[j, i])
    path = [(i, j)]
    while j > 0:
        mv = move[j, i]
        if mv == 0:
            i, j = i - 1, j - 1
        elif mv == 1:
            j -= 1
        else:
            i -= 1
        path.append((i, j))
    return np.array(path[::-1], dtype=np.int64), cost / len(q)
