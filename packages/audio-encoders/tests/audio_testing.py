"""Helpers shared by the piano_audio tests."""

from __future__ import annotations

import numpy as np


def tone(seconds: float, sr: int = 24_000, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    """A decaying piano-like tone with a few partials (float32 mono)."""
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3)) * np.exp(-t)
    return (amp * wave / np.abs(wave).max()).astype(np.float32)
