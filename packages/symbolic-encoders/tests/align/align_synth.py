"""Synthetic scores and performances with a known ground truth for the alignment tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from piano_data.midi import NoteArray


def make_score(rng: np.random.Generator, n_events: int = 120, step: float = 0.25) -> NoteArray:
    """A score of ``n_events`` onsets on an eighth-note grid (some skipped), 1-3 pitches each."""
    grid = np.cumsum(rng.choice([1, 1, 1, 2], size=n_events)) * step
    onsets, pitches = [], []
    for t in grid:
        k = int(rng.integers(1, 4))
        for p in rng.choice(np.arange(40, 90), size=k, replace=False):
            onsets.append(t)
            pitches.append(int(p))
    on = np.array(onsets)
    return NoteArray.from_arrays(on, on + 2 * step, np.array(pitches), np.full(len(on), 64), source="score")


def tempo_curve(rng: np.random.Generator, end: float, n_knots: int = 6, lo: float = 0.6, hi: float = 1.6):
    """A random monotone score->performance warp: the integral of a piecewise-linear tempo factor."""
    knots = np.linspace(0.0, end + 1.0, n_knots)
    factor = rng.uniform(lo, hi, size=n_knots)
    fine = np.linspace(0.0, end + 1.0, 2000)
    rate = np.interp(fine, knots, factor)
    warped = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(fine))])
    offset = float(rng.uniform(0.0, 3.0))
    return lambda t: offset + np.interp(t, fine, warped)


@dataclass
class Performance:
    notes: NoteArray
    warp: object
    n_ornaments: int
    n_deleted: int
    n_inserted: int


def perform(
    score: NoteArray,
    rng: np.random.Generator,
    *,
    jitter: float = 0.01,
    p_delete: float = 0.05,
    p_insert: float = 0.05,
    p_ornament: float = 0.05,
) -> Performance:
    """Play ``score`` with a random tempo curve, jitter, deleted/inserted notes and grace-note ornaments."""
    warp = tempo_curve(rng, float(score.end_time))
    keep = rng.random(len(score)) >= p_delete
    on = warp(score.onset[keep]) + rng.normal(0.0, jitter, size=int(keep.sum()))
    off = warp(score.offset[keep]) + 0.3  # pedal-like overlaps
    pitch = score.pitch[keep]
    extra_on, extra_pitch = [], []
    n_orn = 0
    for t in np.unique(score.onset):
        if rng.random() < p_ornament:  # 2-3 quick grace notes just before the beat
            n_orn += 1
            base = int(rng.integers(45, 85))
            for g in range(int(rng.integers(2, 4))):
                extra_on.append(float(warp(t)) - 0.06 * (g + 1))
                extra_pitch.append(base + g)
    n_ins = int(p_insert * len(score))
    extra_on += list(rng.uniform(warp(0.0), warp(score.end_time), size=n_ins))
    extra_pitch += list(rng.integers(40, 90, size=n_ins))
    on = np.concatenate([on, extra_on])
    off = np.concatenate([off, np.array(extra_on) + 0.1])
    pitch = np.concatenate([pitch, np.array(extra_pitch, dtype=np.int64)])
    notes = NoteArray.from_arrays(on, off, pitch, np.full(len(on), 70), source="performance")
    return Performance(notes, warp, n_orn, int((~keep).sum()), n_ins)
