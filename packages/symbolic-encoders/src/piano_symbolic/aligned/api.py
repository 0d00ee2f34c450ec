"""The entry point: align a performance to its score once, then read the cached result."""

from __future__ import annotations

from pathlib import Path

from piano_data.midi import NoteArray
from piano_data.score import ScoreData

from piano_symbolic.align.aligner import AlignConfig, align_notes
from piano_symbolic.aligned.build import build_aligned
from piano_symbolic.aligned.cache import aligned_digest, default_cache_dir, load_aligned, save_aligned
from piano_symbolic.aligned.types import AlignedConfig, AlignedPerformance

__all__ = ["align_performance"]


def align_performance(
    performance: NoteArray,
    score: ScoreData,
    cfg: AlignedConfig | AlignConfig | None = None,
    *,
    cache: bool | Path = True,
) -> AlignedPerformance:
    """Align ``performance`` to ``score`` with :func:`piano_symbolic.align.align_notes` and build the per-note
    representation (:class:`AlignedPerformance`).

    ``cfg`` is an :class:`AlignedConfig`, or an :class:`AlignConfig` for the aligner with the other settings
    left at their defaults. Results are cached by content hash under ``cache_root()/aligned`` (``cache`` may
    name another folder, or be False to compute without reading or writing). Raises
    :class:`~piano_data.errors.PianoDataError` for note arrays the aligner cannot use.
    """
    if cfg is None:
        cfg = AlignedConfig()
    elif isinstance(cfg, AlignConfig):
        cfg = AlignedConfig(align=cfg)
    directory = None
    digest = ""
    if cache is not False:
        directory = default_cache_dir() if cache is True else Path(cache)
        digest = aligned_digest(performance, score, cfg)
        hit = load_aligned(digest, directory, score_source=score.source, performance_source=performance.source)
        if hit is not None:
            return hit
    aligned = build_aligned(performance, score, align_notes(score.notes, performance, cfg.align), cfg)
    if directory is not None:
        save_aligned(aligned, digest, directory)
    return aligned
