"""Alignment features: onset events (chords) with pitch/chroma vectors, frame-wise piano-roll/chroma."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from piano_data.midi import NoteArray

__all__ = ["OnsetEvents", "event_features", "frame_features", "group_onsets", "ioi_features"]

_LOW, _HIGH = 21, 109  # piano range A0..C8


@dataclass(frozen=True)
class OnsetEvents:
    """Notes grouped into onset events: ``time`` is each event's first onset, ``event`` maps note -> event."""

    time: np.ndarray  # float64 [E]
    event: np.ndarray  # int64 [N]

    def __len__(self) -> int:
        return len(self.time)


def group_onsets(onset: np.ndarray, gap: float) -> OnsetEvents:
    """Group sorted onsets: a new event starts when an onset is more than ``gap`` s after the previous one."""
    onset = np.asarray(onset, dtype=np.float64)
    if len(onset) == 0:
        return OnsetEvents(np.zeros(0), np.zeros(0, dtype=np.int64))
    new = np.concatenate([[True], np.diff(onset) > gap])
    event = np.cumsum(new) - 1
    return OnsetEvents(onset[new], event.astype(np.int64))


def _pitch_chroma(pitch: np.ndarray, rows: np.ndarray, n_rows: int, weight: np.ndarray, chroma_w: float):
    feat = np.zeros((n_rows, 88 + 12), dtype=np.float32)
    p = np.clip(pitch, _LOW, _HIGH - 1) - _LOW
    np.add.at(feat, (rows, p), weight)
    np.add.at(feat, (rows, 88 + pitch % 12), chroma_w * weight)
    return feat


def event_features(notes: NoteArray, events: OnsetEvents, chroma_weight: float = 0.5) -> np.ndarray:
    """Per event: which pitches start there (88 dims) and their pitch classes (12 dims), ``[E, 100]``."""
    return _pitch_chroma(notes.pitch, events.event, len(events), np.ones(len(notes), np.float32), chroma_weight)


def ioi_features(times: np.ndarray, scale: float = 1.0, n_bins: int = 12) -> np.ndarray:
    """Soft log-IOI histogram of each event's gaps to its previous and next event (``[E, 2 * n_bins]``).

    ``scale`` converts the gaps to a common tempo (performance seconds per score second for a performance), so
    that a score and its performance can be compared. The bins are log-spaced from 30 ms to 4 s (0.64 octave
    apart); a gap spreads over neighbouring bins (a Gaussian 0.5 octave wide), so that rubato changes it
    gradually, while a missing or extra event (a gap doubled or halved) changes it clearly."""
    t = np.asarray(times, dtype=np.float64) / max(scale, 1e-6)
    gaps = np.diff(t)
    centers = np.linspace(np.log2(0.03), np.log2(4.0), n_bins)

    def enc(g: np.ndarray) -> np.ndarray:
        x = np.log2(np.clip(g, 0.03, 4.0))[:, None]
        return np.exp(-0.5 * ((x - centers[None, :]) / 0.5) ** 2).astype(np.float32)

    out = np.zeros((len(t), 2 * n_bins), dtype=np.float32)
    if len(t) > 1:
        e = enc(gaps)
        out[1:, :n_bins] = e
        out[:-1, n_bins:] = e
    return out


def frame_features(notes: NoteArray, hop: float, n_frames: int | None = None, chroma_weight: float = 1.0) -> np.ndarray:
    """Frame-wise piano roll of sounding notes (88) plus chroma (12), ``[T, 100]``; each note counts in every
    frame it overlaps (no pedal extension), with a doubled weight in its onset frame."""
    end = notes.end_time if len(notes) else 0.0
    t = int(np.ceil(end / hop)) + 1 if n_frames is None else n_frames
    start = np.clip((notes.onset / hop).astype(np.int64), 0, t - 1)
    stop = np.clip(np.ceil(notes.offset / hop).astype(np.int64), start + 1, t)
    lengths = stop - start
    rows = np.repeat(start, lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    weight = np.ones(len(rows), dtype=np.float32)
    weight[np.cumsum(lengths) - lengths] = 2.0  # onset frame
    pitch = np.repeat(notes.pitch, lengths)
    return _pitch_chroma(pitch, rows, t, weight, chroma_weight)
