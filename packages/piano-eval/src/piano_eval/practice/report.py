"""What a practice analysis reports: its settings, the per-bar feedback, the scored windows, the whole report.

:func:`piano_eval.practice.analysis.analyse` fills these; :mod:`piano_eval.practice.render` writes them as text,
JSON and HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from piano_data.midi import NoteArray

__all__ = [
    "AnalysisConfig",
    "BarFeedback",
    "PracticeReport",
    "Scorer",
    "WindowResult",
    "WindowScores",
    "clock",
    "pitch_name",
]

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def clock(t: float | None) -> str:
    """A time in the recording as minutes:seconds to a tenth, ``"-"`` for none: 59.97 -> ``1:00.0``."""
    if t is None:
        return "-"
    tenths = round(float(t) * 10)
    return f"{tenths // 600}:{(tenths % 600) / 10:04.1f}"


def pitch_name(pitch: int) -> str:
    """Scientific pitch name of a MIDI pitch: 60 -> ``C4``, 61 -> ``C#4``."""
    return f"{PITCH_CLASSES[int(pitch) % 12]}{int(pitch) // 12 - 1}"


@dataclass(frozen=True)
class AnalysisConfig:
    """Thresholds of :func:`piano_eval.practice.analysis.analyse` (times in seconds unless stated)."""

    window_bars: int | None = None  # bars per window (default: the model's training length)
    window_seconds: float | None = None  # seconds per window without a score (default: the model's)
    min_window_fraction: float = 0.5  # a last window shorter than this share of a window joins the previous one
    min_window_notes: int = 8  # windows with fewer performed notes are not scored
    wrong_max_semitones: int = 4  # a missed + an extra note this close in pitch ...
    wrong_max_beats: float = 0.5  # ... and this close in score time (beats) are one wrong note
    variant_beats: float = 0.35  # a missed/extra note whose pitch the other side has this close: a variant
    timing_pair_beats: float = 1.0  # a missed and an extra note of one pitch this close (beats): a timing deviation
    held_repeat: bool = True  # a repeated/tied score note the player held instead of striking again: not missed
    ghost_max_s: float = 0.08  # an extra note shorter than this and softer than the median: a brushed key
    brushed_ratio: float = 0.6  # an extra note softer than this share of the notes struck with it: brushed
    brushed_window_s: float = 0.1  # ... struck within this many seconds of it (also for soft_ratio)
    ornament_max_s: float = 0.12  # an extra note shorter than this ...
    ornament_semitones: int = 2  # ... within this many semitones of a matched note sounding then is an ornament
    ornament_context_ratio: float = 0.75  # ... and (ghost notes too) shorter than this x the median matched note
    ornament_context_s: float = 0.5  # ... struck within this many seconds of it (ratio 0: no such condition)
    figure_notes: int = 1  # an extra note up to ornament_max_s with this many other such unmatched notes within
    # 0.3 s and ornament_semitones is a note of an ornament figure (a trill, a turn), whatever its passage (0: off)
    min_confidence: float = 0.5  # a departure below this confidence is listed as unsure, not flagged (confidence.py)
    doubt_ornament: float = 0.3  # confidence factor: a missed/wrong note of a written-out ornament
    ornament_score_beats: float = 0.2  # ... notes shorter than this (beats) with a short neighbour within 2 semitones
    doubt_inner: float = 0.6  # a missed inner note of a chord of three or more
    doubt_doubling: float = 0.6  # a missed octave doubling of a played chord note, or an added octave doubling
    doubt_lost_bar: float = 0.3  # a missed note in a bar with most of its notes missed
    lost_bar_share: float = 0.5  # ... this share or more of the bar's score notes (and at least 2)
    doubling_beats: float = 0.5  # an extra note an octave from a score note this close (beats): added doubling
    doubt_short: float = 0.6  # a missed/wrong score note shorter than short_beats, an extra note under short_s
    short_beats: float = 0.25
    short_s: float = 0.1
    doubt_soft: float = 0.6  # an extra note softer than soft_ratio x the median of the notes struck with it
    soft_ratio: float = 0.8
    doubt_reference: float = 0.3  # a departure shared by the reference performances (references.py)
    reference_share: float = 0.25  # ... by at least this share of the references that played its bar
    reference_beats: float = 0.5  # ... an added note of the same pitch this close in score time (beats)
    min_trusted_share: float = 0.5  # matched share of the played score notes below which bars get no feedback
    min_matched_notes: int = 8  # fewer matched notes than this: the alignment is not trusted either
    tempo_flag: float = 0.2  # a bar this much faster/slower than the piece's own tempo is rushing/dragging
    top_bars: int = 5  # bars listed as departing most


class Scorer(Protocol):
    """What scores windows: the default numpy model or a checkpoint adapter."""

    name: str

    def score_windows(self, passages: Sequence[tuple[NoteArray, NoteArray | None]]) -> WindowScores: ...


@dataclass(frozen=True)
class WindowScores:
    values: np.ndarray  # [N, 19] in [0, 1]
    confidence: np.ndarray | None  # [N, 19] in [0, 1] or None
    outside_share: np.ndarray  # [N] share of features outside the training 1st-99th percentiles


@dataclass
class BarFeedback:
    """Feedback on one score bar."""

    index: int  # 0-based position among the score's bars
    number: str  # the score's own measure number
    score_start: float
    score_end: float
    played: bool
    start_s: float | None = None  # where the bar was played in the performance
    end_s: float | None = None
    n_score_notes: int = 0
    n_matched: int = 0
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    wrong: list[dict[str, str]] = field(default_factory=list)
    ornaments: int = 0
    unsure: list[dict[str, str]] = field(default_factory=list)  # departures not sure to be mistakes: kind, note, why
    confidence: float | None = None  # the highest confidence among the bar's departures (None: no departure)
    tempo_ratio: float | None = None  # performed tempo / the score's tempo (1 = as written, >1 faster)
    tempo_vs_piece: float | None = None  # performed tempo / the performance's own median tempo
    tempo_vs_references: float | None = None  # tempo_vs_piece / the references' (their rubato here; references.py)
    loudness: float | None = None  # mean MIDI velocity of the notes played in the bar
    remarks: list[str] = field(default_factory=list)
    departure: float = 0.0

    @property
    def n_errors(self) -> int:
        return len(self.missed) + len(self.extra) + len(self.wrong)

    @property
    def flagged(self) -> bool:
        """The bar has missed, extra or wrong notes (at or above the confidence threshold; unsure ones aside)."""
        return self.n_errors > 0


@dataclass
class WindowResult:
    """One scored window: bars ``first``-``last`` (score numbers) or a time span without a score."""

    bar_indices: tuple[int, int] | None
    bars: tuple[str, str] | None
    start_s: float
    end_s: float
    n_notes: int
    values: np.ndarray | None  # [19] or None when the window was too sparse to score
    confidence: np.ndarray | None
    outside_share: float | None


@dataclass
class PracticeReport:
    """Everything ``piano-eval score`` reports about one performance."""

    performance: str
    score: str | None
    model: str
    model_info: dict[str, Any]
    duration_s: float
    n_performed_notes: int
    windows: list[WindowResult]
    bars: list[BarFeedback]
    alignment: dict[str, Any] | None
    notes: list[str]
    restarts: list[dict[str, Any]] = field(default_factory=list)
    trusted: bool = True
    references: dict[str, Any] | None = None  # reference performances: "used" (sources), "rejected" (count)
    min_confidence: float | None = None  # the confidence at which a departure was reported as a mistake

    @property
    def scored_windows(self) -> list[WindowResult]:
        return [w for w in self.windows if w.values is not None]

    def overall(self) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """Duration-weighted mean, standard deviation, and (min, max) stacked ``[2, 19]`` over scored windows."""
        ws = self.scored_windows
        if not ws:
            return None, None, None
        vals = np.stack([w.values for w in ws if w.values is not None])
        weights = np.array([max(w.end_s - w.start_s, 1e-3) for w in ws])
        mean = np.average(vals, axis=0, weights=weights)
        std = np.sqrt(np.average((vals - mean) ** 2, axis=0, weights=weights))
        return mean, std, np.stack([vals.min(axis=0), vals.max(axis=0)])

    def overall_confidence(self) -> np.ndarray | None:
        confs = [w.confidence for w in self.scored_windows if w.confidence is not None]
        return np.mean(np.stack(confs), axis=0) if confs else None

    @property
    def played_bars(self) -> list[BarFeedback]:
        return [b for b in self.bars if b.played]

    def departing_bars(self, k: int = 5) -> list[BarFeedback]:
        """The ``k`` played bars that depart most (errors first, then tempo), strongest first."""
        cands = [b for b in self.played_bars if b.departure > 0]
        return sorted(cands, key=lambda b: (-b.departure, b.index))[:k]
