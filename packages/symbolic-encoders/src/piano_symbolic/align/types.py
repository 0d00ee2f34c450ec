"""Result types of score alignment: a monotone time map, note matches and the flagged alignment."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Alignment", "NoteMatches", "TimeMap"]


@dataclass(frozen=True)
class TimeMap:
    """A monotone piecewise-linear map from score time to performance time (both in seconds).

    ``score_time`` is strictly increasing and ``performance_time`` non-decreasing. Outside the anchors the map
    extrapolates with the mean tempo ratio of the whole map (or 1.0 for a single anchor).
    """

    score_time: np.ndarray  # float64 [K]
    performance_time: np.ndarray  # float64 [K]

    def __post_init__(self) -> None:
        s = np.asarray(self.score_time, dtype=np.float64)
        p = np.asarray(self.performance_time, dtype=np.float64)
        if s.ndim != 1 or s.shape != p.shape or len(s) == 0:
            raise ValueError("TimeMap needs two 1-D arrays of the same non-zero length")
        if np.any(np.diff(s) <= 0) or np.any(np.diff(p) < 0):
            raise ValueError("TimeMap must be strictly increasing in score time and non-decreasing in performance")
        object.__setattr__(self, "score_time", s)
        object.__setattr__(self, "performance_time", p)

    def __len__(self) -> int:
        return len(self.score_time)

    @property
    def slope(self) -> float:
        """Mean performance seconds per score second over the anchored span."""
        span = self.score_time[-1] - self.score_time[0]
        return float((self.performance_time[-1] - self.performance_time[0]) / span) if span > 0 else 1.0

    def __call__(self, score_time: np.ndarray | float) -> np.ndarray:
        """Performance time of each score time (linear inside the anchors, mean-slope extrapolation)."""
        t = np.asarray(score_time, dtype=np.float64)
        s, p = self.score_time, self.performance_time
        out = np.interp(t, s, p)
        k = self.slope
        out = np.where(t < s[0], p[0] + (t - s[0]) * k, out)
        return np.where(t > s[-1], p[-1] + (t - s[-1]) * k, out)

    @classmethod
    def from_pairs(cls, score_time: np.ndarray, performance_time: np.ndarray) -> TimeMap:
        """Build a valid map from any (score, performance) pairs: sort, average duplicates, force monotony."""
        s = np.asarray(score_time, dtype=np.float64)
        p = np.asarray(performance_time, dtype=np.float64)
        if len(s) == 0:
            return cls(np.array([0.0]), np.array([0.0]))
        order = np.argsort(s, kind="stable")
        s, p = s[order], p[order]
        uniq, inv = np.unique(s, return_inverse=True)
        sums = np.bincount(inv, weights=p)
        p = sums / np.bincount(inv)
        return cls(uniq, np.maximum.accumulate(p))


@dataclass(frozen=True)
class NoteMatches:
    """Note-level alignment as index pairs into the score and performance note arrays.

    A row with both indices set is a match; ``performance_index == -1`` marks a missed score note (deletion),
    ``score_index == -1`` an extra performed note (insertion).
    """

    score_index: np.ndarray  # int64 [K]
    performance_index: np.ndarray  # int64 [K]

    def __post_init__(self) -> None:
        if len(self.score_index) != len(self.performance_index):
            raise ValueError("NoteMatches index arrays must have the same length")

    def __len__(self) -> int:
        return len(self.score_index)

    @property
    def matched(self) -> np.ndarray:
        return (self.score_index >= 0) & (self.performance_index >= 0)

    @property
    def n_matched(self) -> int:
        return int(self.matched.sum())

    @property
    def n_missed(self) -> int:
        return int((self.performance_index < 0).sum())

    @property
    def n_extra(self) -> int:
        return int((self.score_index < 0).sum())

    @property
    def labels(self) -> np.ndarray:
        """``'match'``, ``'deletion'`` (missed score note) or ``'insertion'`` (extra note) per row."""
        out = np.full(len(self), "match", dtype=object)
        out[self.performance_index < 0] = "deletion"
        out[self.score_index < 0] = "insertion"
        return out

    @classmethod
    def from_pairs(cls, pairs: np.ndarray, n_score: int, n_performance: int) -> NoteMatches:
        """Matches from an ``[K, 2]`` array of (score, performance) index pairs; the rest become unmatched."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        missed = np.setdiff1d(np.arange(n_score), pairs[:, 0])
        extra = np.setdiff1d(np.arange(n_performance), pairs[:, 1])
        s = np.concatenate([pairs[:, 0], missed, np.full(len(extra), -1)])
        p = np.concatenate([pairs[:, 1], np.full(len(missed), -1), extra])
        return cls(s.astype(np.int64), p.astype(np.int64))


@dataclass(frozen=True)
class Alignment:
    """What an aligner returns: the time map, note matches where available, a confidence and flags.

    ``confidence`` is in [0, 1] (for note-level aligners the share of score notes matched near the map).
    ``flags`` name problems found, e.g. ``"low_confidence"`` (probably a different piece) or
    ``"performance_longer_than_score"`` (repeats, improvisation, another piece appended).
    """

    time_map: TimeMap
    matches: NoteMatches | None
    confidence: float
    method: str
    flags: tuple[str, ...] = field(default=())

    @property
    def low_confidence(self) -> bool:
        return "low_confidence" in self.flags
