"""The features the default model reads from one passage: one function for training and for scoring."""

from __future__ import annotations

import hashlib
import inspect

import numpy as np
from piano_data.midi import NoteArray

__all__ = ["feature_names", "feature_version", "passage_features"]


def feature_names() -> tuple[str, ...]:
    from piano_symbolic.features import FEATURE_NAMES

    return tuple(FEATURE_NAMES)


def feature_version() -> str:
    """``<FEATURE_VERSION>-<count>-<sha1 of the extractor's source, 12 hex>``: changes whenever features can."""
    import piano_symbolic.features as features

    digest = hashlib.sha1(inspect.getsource(features).encode()).hexdigest()[:12]
    return f"{features.FEATURE_VERSION}-{len(features.FEATURE_NAMES)}-{digest}"


def _from_zero(notes: NoteArray, start: float) -> NoteArray:
    pedal = notes.pedal - start if len(notes.pedal) else notes.pedal
    return NoteArray(notes.onset - start, notes.offset - start, notes.pitch, notes.velocity, pedal, notes.source)


def passage_features(performance: NoteArray, score: NoteArray | None) -> np.ndarray:
    """Feature vector of one performed passage and, when known, the score passage it plays.

    Both are moved to start at 0 (as PercePiano's passages do) and the score is given as bare notes (read as 4/4
    at 120 quarters per minute by :func:`piano_data.score.score_from_notes`), in training and in scoring alike.
    The passage is aligned afresh (not cached: a practice session should not fill the cache).
    """
    from piano_symbolic.features import extract_features

    perf = _from_zero(performance, float(performance.onset[0]))
    if score is None or len(score) < 2:
        return extract_features(perf, None)
    return extract_features(perf, _from_zero(score, float(score.onset[0])), cache=False)
