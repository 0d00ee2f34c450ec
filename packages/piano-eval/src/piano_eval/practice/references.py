"""Reference performances: other players' takes of the same score, to tell a slip from a score that misleads.

Many departures from a score MIDI are not the player's: an edition that differs from the one encoded, an
ornament written out one way and played another, a chord note nobody sounds, an 8va line encoded at pitch. A
teacher's recording of the piece, or any other performance of the same score, departs in the same places.
:func:`reference_departures` aligns each reference to the score once (the project's aligner, the same note
classes as the feedback) and records, per score note, how many references played its bar and how many left the
note unplayed or played another pitch, and every note they added. :func:`piano_eval.practice.confidence.note_confidence`
then doubts a departure that at least ``reference_share`` of the references that played its bar share (factor
``doubt_reference``): a missed or wrong score note they missed or played wrong too, an extra note of a pitch they
added within ``reference_beats`` of it. The references' tempo shape (each one's bar tempo over its own median)
also becomes the yardstick for rushing and dragging: a bar taken faster than the player's own tempo where the
references take it faster too is their shared rubato, not rushing.

A reference whose alignment cannot be trusted (another piece, or most of its notes not found) is left out and
counted in ``n_rejected``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from piano_data.midi import NoteArray

from piano_eval.practice.note_classes import bar_spans, bar_tempo, classify_notes, follows_score, played_bars

if TYPE_CHECKING:
    from piano_data.score import ScoreData
    from piano_symbolic.aligned import AlignedPerformance

    from piano_eval.practice.report import AnalysisConfig

__all__ = ["ReferenceDepartures", "reference_departures"]


@dataclass(frozen=True)
class ReferenceDepartures:
    """What the usable references did against one score.

    ``seen[i]``: references whose played bars include score note ``i``'s bar; ``off[i]``: of those, the ones
    that left it unplayed (missed) or played another pitch for it (wrong). ``added_time``/``added_pitch``: per
    reference, the score time and pitch of each note it added (extra, or the played pitch of a wrong note);
    ``played``: per reference, its played bars. ``sources``: the references used; ``n_rejected``: those left
    out because their alignment to this score was not trusted.
    """

    seen: np.ndarray  # [S] int
    off: np.ndarray  # [S] int
    added_time: list[np.ndarray]
    added_pitch: list[np.ndarray]
    played: list[np.ndarray]  # per reference, [n_bars] bool
    sources: list[str]
    n_rejected: int
    tempo_shape: np.ndarray | None = None  # [n_bars] the references' median bar tempo over their own median, or NaN

    @property
    def n(self) -> int:
        """The number of references used."""
        return len(self.sources)

    def shared_score(self, idx: np.ndarray, share: float) -> np.ndarray:
        """Which of the score notes ``idx`` at least ``share`` of the references that played their bar also
        missed or played wrong (False where no reference played the bar)."""
        seen, off = self.seen[idx], self.off[idx]
        return (seen > 0) & (off >= share * np.maximum(seen, 1))

    def shared_added(
        self, times: np.ndarray, pitches: np.ndarray, bars: np.ndarray, tol: np.ndarray, share: float
    ) -> np.ndarray:
        """Which added notes (score time, pitch, 0-based bar, tolerance in score seconds) at least ``share`` of
        the references that played their bar also added (same pitch, within the tolerance)."""
        seen = np.zeros(len(times), dtype=int)
        hit = np.zeros(len(times), dtype=int)
        for t_ref, p_ref, played in zip(self.added_time, self.added_pitch, self.played, strict=True):
            in_bar = played[np.clip(bars, 0, len(played) - 1)]
            seen += in_bar
            for k in np.flatnonzero(in_bar):
                hit[k] += bool(np.any((p_ref == pitches[k]) & (np.abs(t_ref - times[k]) <= tol[k])))
        return (seen > 0) & (hit >= share * np.maximum(seen, 1))


def reference_departures(
    references: Sequence[NoteArray],
    score: ScoreData,
    cfg: AnalysisConfig,
    *,
    aligned: Sequence[AlignedPerformance] | None = None,
    cache: bool = False,
) -> ReferenceDepartures:
    """Align every reference to ``score`` (or use ``aligned``, one per reference) and record its departures;
    ``cache`` keeps the alignments in the aligned-performance cache (benchmarks scoring many takes)."""
    from piano_symbolic.aligned import align_performance

    n_s, n_bars = len(score.notes), len(score.bar_times)
    seen, off = np.zeros(n_s, dtype=int), np.zeros(n_s, dtype=int)
    added_time: list[np.ndarray] = []
    added_pitch: list[np.ndarray] = []
    played_all: list[np.ndarray] = []
    shapes: list[np.ndarray] = []
    sources: list[str] = []
    rejected = 0
    for k, ref in enumerate(references):
        ap = aligned[k] if aligned is not None else align_performance(ref, score, cache=cache)
        cls = classify_notes(ref, score, ap, score.beat_duration, cfg)
        played = played_bars(score, cls, ap)
        if not follows_score(cls, played, cfg)[1]:
            rejected += 1
            continue
        in_span = played[cls.score_bar]
        seen += in_span
        off += in_span & np.isin(cls.score_status, ("missed", "wrong"))
        add = np.isin(cls.perf_status, ("extra", "wrong"))
        added_time.append(cls.perf_score_time[add])
        added_pitch.append(ref.pitch[add].astype(int))
        played_all.append(played)
        tempo = bar_tempo(*bar_spans(score, ap, float(ref.end_time)), played)
        if np.isfinite(tempo).any():
            shapes.append(tempo / float(np.nanmedian(tempo)))
        sources.append(str(ref.source or f"reference {k + 1}"))
    shape = None
    if shapes:
        stack = np.stack(shapes)
        shape = np.full(n_bars, np.nan)
        some = np.isfinite(stack).any(axis=0)
        shape[some] = np.nanmedian(stack[:, some], axis=0)
    return ReferenceDepartures(seen, off, added_time, added_pitch, played_all, sources, rejected, shape)
