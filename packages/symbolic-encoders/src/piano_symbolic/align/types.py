"""Result types of score alignment: a monotone time map, note matches (with substitutions), restart points and
the flagged alignment."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["NOTE_LABELS", "Alignment", "NoteMatches", "Restart", "TimeMap"]

#: The label of a :class:`NoteMatches` row.
NOTE_LABELS: tuple[str, ...] = ("match", "substitution", "deletion", "insertion")


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

    A row with both indices set is a match, or, where ``substituted`` is True, a substitution: the score note
    was played at its place with a wrong pitch (the performed note of the row). ``performance_index == -1``
    marks a missed score note (deletion), ``score_index == -1`` an extra performed note (insertion). Every
    score note and every performed note appears in exactly one row.
    """

    score_index: np.ndarray  # int64 [K]
    performance_index: np.ndarray  # int64 [K]
    substituted: np.ndarray | None = None  # bool [K]; None: no substitutions

    def __post_init__(self) -> None:
        if len(self.score_index) != len(self.performance_index):
            raise ValueError("NoteMatches index arrays must have the same length")
        if self.substituted is not None:
            sub = np.asarray(self.substituted, dtype=bool)
            if sub.shape != (len(self.score_index),):
                raise ValueError("NoteMatches.substituted must be a bool array of one value per row")
            if np.any(sub & ((self.score_index < 0) | (self.performance_index < 0))):
                raise ValueError("a substitution row needs both a score and a performance index")
            object.__setattr__(self, "substituted", sub)

    def __len__(self) -> int:
        return len(self.score_index)

    @property
    def _substituted(self) -> np.ndarray:
        return np.zeros(len(self), dtype=bool) if self.substituted is None else self.substituted

    @property
    def matched(self) -> np.ndarray:
        """Rows pairing a score note with a performed note of its pitch (not substitutions)."""
        return (self.score_index >= 0) & (self.performance_index >= 0) & ~self._substituted

    @property
    def n_matched(self) -> int:
        return int(self.matched.sum())

    @property
    def n_substituted(self) -> int:
        return int(self._substituted.sum())

    @property
    def n_missed(self) -> int:
        return int((self.performance_index < 0).sum())

    @property
    def n_extra(self) -> int:
        return int((self.score_index < 0).sum())

    @property
    def labels(self) -> np.ndarray:
        """``'match'``, ``'substitution'`` (wrong pitch at the right place), ``'deletion'`` (missed score note)
        or ``'insertion'`` (extra performed note), per row."""
        out = np.full(len(self), "match", dtype=object)
        out[self._substituted] = "substitution"
        out[self.performance_index < 0] = "deletion"
        out[self.score_index < 0] = "insertion"
        return out

    @classmethod
    def from_pairs(
        cls,
        pairs: np.ndarray,
        n_score: int,
        n_performance: int,
        substitutions: np.ndarray | None = None,
    ) -> NoteMatches:
        """Matches from an ``[K, 2]`` array of (score, performance) index pairs, plus optional ``[S, 2]``
        substitution pairs; every other note becomes a deletion or an insertion."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        subs = np.zeros((0, 2), np.int64) if substitutions is None else np.asarray(substitutions, np.int64)
        subs = subs.reshape(-1, 2)
        both = np.concatenate([pairs, subs])
        missed = np.setdiff1d(np.arange(n_score), both[:, 0])
        extra = np.setdiff1d(np.arange(n_performance), both[:, 1])
        s = np.concatenate([both[:, 0], missed, np.full(len(extra), -1)])
        p = np.concatenate([both[:, 1], np.full(len(missed), -1), extra])
        flag = np.zeros(len(s), dtype=bool)
        flag[len(pairs) : len(both)] = True
        return cls(s.astype(np.int64), p.astype(np.int64), flag if substitutions is not None else None)


@dataclass(frozen=True)
class Restart:
    """A new take: at ``performance_time`` (s) the player goes back to ``score_time`` (s) and plays on."""

    performance_time: float
    score_time: float


@dataclass(frozen=True)
class Alignment:
    """What an aligner returns: the time map, note matches where available, a confidence and flags.

    ``confidence`` is in [0, 1] (for note-level aligners the share of the score notes inside ``played_span``
    matched or substituted). ``flags`` name what was found: problems, ``"low_confidence"`` (probably a
    different piece) and ``"performance_longer_than_score"`` (repeats, improvisation, another piece appended),
    and notes, ``"skipped_section"`` (a cut or a repeat not taken), ``"restart"`` (the player went back in the
    score, see ``restarts``) and ``"partial"`` (only part of the score was played, see ``played_span``).

    ``restarts`` lists where each new take starts (performance time) and the score time it goes back to; the
    time map follows the take that continues (the last one to play each score time) and stays monotone.
    ``played_span`` is the (start, end) score seconds of the part actually played, None for the whole score;
    the time map's anchors lie inside it.
    """

    time_map: TimeMap
    matches: NoteMatches | None
    confidence: float
    method: str
    flags: tuple[str, ...] = field(default=())
    restarts: tuple[Restart, ...] = field(default=())
    played_span: tuple[float, float] | None = None

    @property
    def low_confidence(self) -> bool:
        return "low_confidence" in self.flags
