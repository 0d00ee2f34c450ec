"""MIDI performance -> continuous curves at a fixed frame rate (the input of S3).

Channels (``N_CHANNELS = 265``): 88 key activity (1 while a note sounds), 88 velocity (velocity/127 while it
sounds), 88 onsets (velocity/127 on the onset frame) and 1 sustain pedal. The pedal curve is the down/up
state of
:class:`piano_data.midi.NoteArray` (CC64 >= 64), so half-pedalling depth is not represented.
"""

from __future__ import annotations

import math

import numpy as np
from piano_data.midi import NoteArray

__all__ = ["N_CHANNELS", "notes_to_curves"]

_LOW, _KEYS = 21, 88
N_CHANNELS = 3 * _KEYS + 1


def notes_to_curves(notes: NoteArray, fps: float, max_seconds: float | None = None) -> np.ndarray:
    """``[T, 265]`` float32 curves with ``T = ceil(end * fps) + 1`` (at least 1); cut at ``max_seconds``."""
    end = notes.end_time if len(notes) else 0.0
    if max_seconds is not None:
        end = min(end, max_seconds)
    n_frames = max(1, math.ceil(end * fps) + 1)
    out = np.zeros((n_frames, N_CHANNELS), np.float32)
    keys = np.clip(notes.pitch - _LOW, 0, _KEYS - 1)
    start = np.floor(notes.onset * fps).astype(np.int64)
    stop = np.maximum(np.ceil(notes.offset * fps).astype(np.int64), start + 1)
    vel = np.clip(notes.velocity, 0, 127) / 127.0
    for k, a, b, v in zip(keys, start, stop, vel, strict=True):
        if a >= n_frames:
            continue
        out[a:b, k] = 1.0
        out[a:b, _KEYS + k] = np.maximum(out[a:b, _KEYS + k], v)
        out[a, 2 * _KEYS + k] = max(out[a, 2 * _KEYS + k], v)
    for s, e in notes.pedal:
        a, b = math.floor(s * fps), math.ceil(e * fps)
        out[max(a, 0) : max(b, 0), -1] = 1.0
    return out
