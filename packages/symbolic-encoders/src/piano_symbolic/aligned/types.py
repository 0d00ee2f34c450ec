"""Types of the aligned representation: one row per score note, one row per performed note, and their config."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from piano_symbolic.align.aligner import AlignConfig, default_config
from piano_symbolic.align.types import Alignment

__all__ = [
    "FEATURE_VERSION",
    "PERFORMED_STATUS",
    "SCORE_STATUS",
    "AlignedConfig",
    "AlignedPerformance",
    "PerformedNotes",
    "ScoreNotes",
]

#: Bump when what :func:`~piano_symbolic.aligned.align_performance` computes changes (invalidates the cache).
FEATURE_VERSION = 1

SCORE_STATUS: tuple[str, ...] = ("matched", "missed", "substituted")
PERFORMED_STATUS: tuple[str, ...] = ("matched", "substituted", "extra")


@dataclass(frozen=True)
class AlignedConfig:
    """Settings of :func:`~piano_symbolic.aligned.align_performance`.

    ``tempo_window`` is the half-width, in score beats, of the local linear fit of performed onset on score
    onset that defines the local tempo (the smoothed time map); ``velocity_window`` the half-width, in beats,
    of the local velocity mean; ``chord_gap`` (score seconds) groups score notes into chords; ``outlier_beats``
    is the smallest residual (beats) that can drop a chord from the tempo fit, ``outlier_scale`` the number of
    robust standard deviations (1.4826 MAD) above which it is dropped.
    """

    align: AlignConfig = field(default_factory=default_config)
    tempo_window: float = 2.0
    velocity_window: float = 2.0
    chord_gap: float = 0.02
    outlier_beats: float = 0.1
    outlier_scale: float = 3.0


@dataclass(frozen=True)
class ScoreNotes:
    """One row per score note, in the score's note order (:attr:`ScoreData.notes`). Missing values are NaN.

    | field | dtype | meaning |
    |---|---|---|
    | ``status`` | str | ``"matched"``, ``"missed"`` or ``"substituted"`` (played with a wrong pitch) |
    | ``perf_index`` | int | index of the performed note (matched or substituted), -1 when missed |
    | ``pitch`` | int | MIDI pitch in the score |
    | ``onset`` | float | score onset (score seconds) |
    | ``duration`` | float | score duration (score seconds) |
    | ``duration_beats`` | float | score duration in beats |
    | ``beat`` | float | fractional beat index of the onset in the whole score |
    | ``bar`` | int | 0-based bar index (``AlignedPerformance.bar_numbers[bar]`` is the score's own number) |
    | ``beat_in_bar`` | float | position in the bar in beats (0 on the downbeat) |
    | ``chord`` | int | index of the score chord (onsets within ``chord_gap``) |
    | ``top_voice`` / ``bottom_voice`` | bool | highest / lowest pitch of its chord |
    | ``in_played_span`` | bool | inside the part of the score the performer played (``Alignment.played_span``) |
    | ``perf_onset`` | float | performed onset (s) |
    | ``expected_onset`` | float | onset the local tempo predicts (s; smoothed map fitted without this chord) |
    | ``onset_dev_beats`` | float | ``(perf_onset - expected_onset)`` in beats of the local tempo (+ = late) |
    | ``local_tempo`` | float | log of the local tempo over the piece's mean tempo (+ = faster); set for every note |
    | ``ioi_ratio`` | float | time to the next played chord over the time the local tempo predicts (1 = in time) |
    | ``velocity`` | float | performed MIDI velocity |
    | ``velocity_local`` | float | velocity minus the mean velocity of played notes within ``velocity_window`` beats |
    | ``velocity_chord`` | float | velocity minus the mean velocity of the played notes of its chord |
    | ``articulation`` | float | performed duration over the score duration in the performer's local tempo |
    | ``pedal`` | bool | sustain pedal down at the performed onset (False when missed) |
    | ``asynchrony`` | float | performed onset minus the median performed onset of its chord (s; + = after) |
    """

    status: np.ndarray
    perf_index: np.ndarray
    pitch: np.ndarray
    onset: np.ndarray
    duration: np.ndarray
    duration_beats: np.ndarray
    beat: np.ndarray
    bar: np.ndarray
    beat_in_bar: np.ndarray
    chord: np.ndarray
    top_voice: np.ndarray
    bottom_voice: np.ndarray
    in_played_span: np.ndarray
    perf_onset: np.ndarray
    expected_onset: np.ndarray
    onset_dev_beats: np.ndarray
    local_tempo: np.ndarray
    ioi_ratio: np.ndarray
    velocity: np.ndarray
    velocity_local: np.ndarray
    velocity_chord: np.ndarray
    articulation: np.ndarray
    pedal: np.ndarray
    asynchrony: np.ndarray

    def __len__(self) -> int:
        return len(self.status)

    @property
    def played(self) -> np.ndarray:
        """Rows with a performed note (matched or substituted)."""
        return self.perf_index >= 0

    @property
    def matched(self) -> np.ndarray:
        return self.status == "matched"


@dataclass(frozen=True)
class PerformedNotes:
    """One row per performed note, in the performance's note order. Missing values are NaN.

    | field | dtype | meaning |
    |---|---|---|
    | ``status`` | str | ``"matched"``, ``"substituted"`` or ``"extra"`` (no score note) |
    | ``score_index`` | int | index of its score note, -1 when extra |
    | ``pitch`` / ``velocity`` | int | as performed |
    | ``onset`` / ``duration`` | float | as performed (s) |
    | ``score_time`` | float | score seconds of the onset through the alignment's time map |
    | ``bar`` | int | 0-based bar index: its score note's bar, for extra notes the bar of ``score_time`` |
    | ``beat_in_bar`` | float | position in that bar in beats (its score note's, for extra notes by the map) |
    | ``pedal`` | bool | sustain pedal down at the onset |
    """

    status: np.ndarray
    score_index: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    onset: np.ndarray
    duration: np.ndarray
    score_time: np.ndarray
    bar: np.ndarray
    beat_in_bar: np.ndarray
    pedal: np.ndarray

    def __len__(self) -> int:
        return len(self.status)


@dataclass(frozen=True)
class AlignedPerformance:
    """A performance aligned to its score, built once per pair (see :func:`align_performance`).

    | field | meaning |
    |---|---|
    | ``alignment`` | what :func:`piano_symbolic.align.align_notes` returned (time map, matches, confidence, flags) |
    | ``score_notes`` | :class:`ScoreNotes`, one row per score note |
    | ``performed_notes`` | :class:`PerformedNotes`, one row per performed note |
    | ``bar_numbers`` | the score's own number of each bar index |
    | ``mean_tempo`` | performed seconds per score second of the whole matched span (the piece's own mean) |
    | ``restarts`` | ``((performance_time, score_time), ...)`` where a new take starts (empty when none) |
    | ``played_span`` | ``(start, end)`` score seconds actually played, or None for the whole score |
    | ``flags`` | the alignment's flags (``"low_confidence"``, ``"restart"``, ``"partial"``, ...) |
    | ``score_source`` / ``performance_source`` | the files the notes came from, when known |
    | ``version`` | :data:`FEATURE_VERSION` of the code that built it |
    """

    alignment: Alignment
    score_notes: ScoreNotes
    performed_notes: PerformedNotes
    bar_numbers: tuple[str, ...]
    mean_tempo: float
    restarts: tuple[tuple[float, float], ...] = ()
    played_span: tuple[float, float] | None = None
    flags: tuple[str, ...] = ()
    score_source: str | None = None
    performance_source: str | None = None
    version: int = FEATURE_VERSION

    @property
    def n_matched(self) -> int:
        return int((self.score_notes.status == "matched").sum())

    @property
    def n_missed(self) -> int:
        return int((self.score_notes.status == "missed").sum())

    @property
    def n_substituted(self) -> int:
        return int((self.score_notes.status == "substituted").sum())

    @property
    def n_extra(self) -> int:
        return int((self.performed_notes.status == "extra").sum())
