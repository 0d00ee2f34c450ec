"""One S4 token per score note of an :class:`~piano_symbolic.aligned.AlignedPerformance`.

A token is the note's score context (pitch, position in the bar, score duration, outer voices) plus what the
performer did with it (onset deviation in beats, local tempo, inter-onset ratio, velocity and its relative
forms, articulation, pedal, asynchrony) and its status (matched / missed / substituted) as an embedding index.
Deviation values are clipped to ranges that keep aligner outliers from dominating; missing values (a missed
note has no velocity) are zero, and the status tells the model so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from piano_symbolic.aligned import SCORE_STATUS, AlignedPerformance

__all__ = [
    "CONTEXT_FEATURES",
    "DEVIATION_FEATURES",
    "N_STATUS",
    "TARGETS",
    "NoteTokens",
    "tokens_from_aligned",
]

#: Score context, one column each (never masked).
CONTEXT_FEATURES: tuple[str, ...] = (
    "beat_in_bar",  # beats from the downbeat / 4
    "downbeat",  # 1 on a downbeat
    "log_duration_beats",  # log2 of the score duration in beats (clipped to [-4, 3]) / 4
    "top_voice",
    "bottom_voice",
    "pitch_height",  # (pitch - 60) / 24
)
#: What the performer did (zeroed at masked tokens during pretraining).
DEVIATION_FEATURES: tuple[str, ...] = (
    "onset_dev_beats",  # clipped to [-1, 1]
    "local_tempo",  # log ratio to the piece's mean, clipped to [-1, 1]
    "log_ioi_ratio",  # log of the inter-onset ratio, clipped to [-2, 2] / 2
    "velocity",  # / 127
    "velocity_local",  # / 32, clipped to [-2, 2]
    "velocity_chord",  # / 32, clipped to [-2, 2]
    "log_articulation",  # log of performed / score duration, clipped to [-3, 3] / 3
    "pedal",
    "asynchrony",  # seconds * 10, clipped to [-1, 1]
)
#: Masked deviation prediction targets (columns of ``NoteTokens.targets``): timing, dynamics, articulation.
TARGETS: tuple[str, ...] = ("onset_dev_beats", "velocity_local", "log_articulation")
N_STATUS = len(SCORE_STATUS)


@dataclass(frozen=True)
class NoteTokens:
    """Arrays of one aligned performance, one row per score note inside the played span, in score order.

    ``pitch`` int64 ``[N]``; ``status`` int64 ``[N]`` (index into :data:`SCORE_STATUS`); ``context`` float32
    ``[N, len(CONTEXT_FEATURES)]``; ``deviation`` float32 ``[N, len(DEVIATION_FEATURES)]``; ``targets`` float32
    ``[N, len(TARGETS)]`` (in the units of ``deviation``); ``target_mask`` bool ``[N]`` (a matched note with
    finite targets); ``bar`` int64 ``[N]`` (the score's 0-based bar index).
    """

    pitch: np.ndarray
    status: np.ndarray
    context: np.ndarray
    deviation: np.ndarray
    targets: np.ndarray
    target_mask: np.ndarray
    bar: np.ndarray

    def __len__(self) -> int:
        return len(self.pitch)

    def slice(self, start: int, stop: int) -> NoteTokens:
        """Rows ``start:stop``."""
        return NoteTokens(*(getattr(self, f)[start:stop] for f in self.__dataclass_fields__))


def _clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.nan_to_num(x.astype(np.float64), nan=0.0, posinf=hi, neginf=lo), lo, hi)


def tokens_from_aligned(aligned: AlignedPerformance) -> NoteTokens:
    """The :class:`NoteTokens` of ``aligned`` (notes outside the played span are left out)."""
    sn = aligned.score_notes
    keep = np.asarray(sn.in_played_span, dtype=bool)
    if not keep.any():
        keep = np.ones(len(sn), dtype=bool)
    idx = np.flatnonzero(keep)
    status = np.array([SCORE_STATUS.index(str(s)) for s in sn.status[idx]], dtype=np.int64)
    played = sn.perf_index[idx] >= 0
    beat_in_bar = np.nan_to_num(sn.beat_in_bar[idx].astype(np.float64))
    dur_beats = np.maximum(np.nan_to_num(sn.duration_beats[idx].astype(np.float64), nan=1.0), 1e-3)
    context = np.stack(
        [
            beat_in_bar / 4.0,
            (beat_in_bar < 1e-3).astype(np.float64),
            np.clip(np.log2(dur_beats), -4.0, 3.0) / 4.0,
            sn.top_voice[idx].astype(np.float64),
            sn.bottom_voice[idx].astype(np.float64),
            (sn.pitch[idx].astype(np.float64) - 60.0) / 24.0,
        ],
        axis=1,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ioi = np.log(sn.ioi_ratio[idx].astype(np.float64))
        log_art = np.log(sn.articulation[idx].astype(np.float64))
    onset_dev = _clip(sn.onset_dev_beats[idx], -1.0, 1.0)
    vel_local = _clip(sn.velocity_local[idx] / 32.0, -2.0, 2.0)
    art = _clip(log_art, -3.0, 3.0) / 3.0
    deviation = np.stack(
        [
            onset_dev,
            _clip(sn.local_tempo[idx], -1.0, 1.0),
            _clip(log_ioi, -2.0, 2.0) / 2.0,
            np.where(played, np.nan_to_num(sn.velocity[idx].astype(np.float64)) / 127.0, 0.0),
            vel_local,
            _clip(sn.velocity_chord[idx] / 32.0, -2.0, 2.0),
            art,
            np.where(played, sn.pedal[idx].astype(np.float64), 0.0),
            _clip(sn.asynchrony[idx] * 10.0, -1.0, 1.0),
        ],
        axis=1,
    )
    deviation[~played] = 0.0
    finite = np.isfinite(sn.onset_dev_beats[idx]) & np.isfinite(sn.velocity_local[idx]) & np.isfinite(log_art)
    target_mask = (status == SCORE_STATUS.index("matched")) & finite
    targets = np.stack([onset_dev, vel_local, art], axis=1)
    return NoteTokens(
        pitch=np.clip(sn.pitch[idx].astype(np.int64), 0, 127),
        status=status,
        context=context.astype(np.float32),
        deviation=deviation.astype(np.float32),
        targets=targets.astype(np.float32),
        target_mask=target_mask,
        bar=sn.bar[idx].astype(np.int64),
    )
