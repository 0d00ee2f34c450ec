"""A performance aligned to its score, note by note, with deviations normalised by the local tempo.

``align_performance(performance, score)`` runs the project's aligner once per (performance, score) pair
(cached by content hash) and returns an :class:`AlignedPerformance`: one row per score note (matched, missed or
substituted, with onset deviation in beats, local tempo, velocity, articulation, pedal, asynchrony and its bar
and beat) and one row per performed note (matched, substituted or extra, with its bar through the time map).
"""

from piano_symbolic.aligned.api import align_performance
from piano_symbolic.aligned.build import build_aligned
from piano_symbolic.aligned.cache import aligned_digest, default_cache_dir
from piano_symbolic.aligned.types import (
    FEATURE_VERSION,
    PERFORMED_STATUS,
    SCORE_STATUS,
    AlignedConfig,
    AlignedPerformance,
    PerformedNotes,
    ScoreNotes,
)

__all__ = [
    "FEATURE_VERSION",
    "PERFORMED_STATUS",
    "SCORE_STATUS",
    "AlignedConfig",
    "AlignedPerformance",
    "PerformedNotes",
    "ScoreNotes",
    "align_performance",
    "aligned_digest",
    "build_aligned",
    "default_cache_dir",
]
