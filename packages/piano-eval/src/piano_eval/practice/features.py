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
    """``<count>-<sha1 of the feature extractor's source, 12 hex>``: changes whenever the features can change."""
    import piano_symbolic.features as features

    digest = hashlib.sha1(inspect.getsource(features).encode()).hexdigest()[:12]
    return f"{len(features.FEATURE_NAMES)}-{digest}"


def passage_features(performance: NoteArray, score: NoteArray | None) -> np.ndarray:
    """Feature vector of one performed passage and, when known, the score passage it plays."""
    from piano_symbolic.features import extract_features

    return extract_features(performance, score if score is not None and len(score) >= 2 else None)
