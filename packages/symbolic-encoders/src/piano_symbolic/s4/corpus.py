"""The S4 pretraining corpus: (performance, score) pairs, aligned once (cached), cut into bar windows.

Sources under a data root: PercePiano segments with their score MIDI (labels unused), the ASAP development
performances with their ``midi_score.mid``, and the GiantMIDI / MAESTRO files of the GiantMIDI evaluation subset
(which ship a score MIDI). Each pair goes through :func:`piano_symbolic.aligned.align_performance` (content-hashed
cache, so the first run pays about a quarter CPU-second per pair and later runs read files).

Windows of the same bars of the same score played by different performers share a ``group``: the positives of
the cross-performer contrast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from piano_data.errors import PianoDataError
from piano_data.midi import read_notes
from piano_data.score import ScoreData, read_score

from piano_symbolic.aligned import align_performance
from piano_symbolic.s4.tokens import NoteTokens, tokens_from_aligned

__all__ = ["SOURCES", "CorpusPair", "Window", "bar_windows", "corpus_pairs", "load_aligned_corpus"]

log = logging.getLogger(__name__)

SOURCES: tuple[str, ...] = ("percepiano", "asap", "giantmidi")


@dataclass(frozen=True)
class CorpusPair:
    """One performance MIDI and its score; ``piece`` groups performances of the same score."""

    performance: Path
    score: Path
    piece: str
    performer: str
    source: str


@dataclass(frozen=True)
class Window:
    """Tokens of ``bars`` [start, stop) of one aligned pair; ``group`` = same score and bars (None: no peer)."""

    tokens: NoteTokens
    group: str | None
    source: str


def corpus_pairs(root: Path, sources: Sequence[str] = SOURCES, max_per_score: int | None = None) -> list[CorpusPair]:
    """Every (performance, score) pair of ``sources`` found under the data ``root`` (absent folders are skipped).

    ``max_per_score`` keeps the first that many performances of each score (by file name), which bounds the
    alignment cost of the long-form corpora while keeping cross-performer peers; PercePiano is never cut.
    """
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown S4 corpus source(s) {unknown}; choose from {SOURCES}")
    pairs: list[CorpusPair] = []
    if "percepiano" in sources and (root / "percepiano").is_dir():
        from piano_data.percepiano import load_percepiano

        for seg in load_percepiano(root / "percepiano", with_std=False):
            if seg.score_midi_path is not None:
                pairs.append(CorpusPair(seg.midi_path, seg.score_midi_path, seg.group, seg.player, "percepiano"))
    if "asap" in sources and (root / "asap").is_dir():
        from piano_data.tiers import load_asap

        for perf in load_asap(root / "asap"):
            if perf.midi_path is not None and perf.score_midi_path is not None:
                pairs.append(CorpusPair(perf.midi_path, perf.score_midi_path, perf.piece, perf.performer, "asap"))
    eval_dir = root / "giantmidi_subset" / "midis_for_evaluation"
    if "giantmidi" in sources and eval_dir.is_dir():
        from piano_data.tiers import load_giantmidi_eval

        for perf in load_giantmidi_eval(eval_dir):
            if perf.midi_path is not None and perf.score_midi_path is not None:
                pairs.append(CorpusPair(perf.midi_path, perf.score_midi_path, perf.piece, perf.performer, perf.source))
    if max_per_score is None:
        return pairs
    kept: list[CorpusPair] = []
    per_score: dict[Path, list[CorpusPair]] = {}
    for pair in pairs:
        if pair.source == "percepiano":
            kept.append(pair)
        else:
            per_score.setdefault(pair.score, []).append(pair)
    for group in per_score.values():
        kept += sorted(group, key=lambda p: str(p.performance))[:max_per_score]
    return kept


def load_aligned_corpus(pairs: Sequence[CorpusPair], *, progress: bool = False) -> list[tuple[CorpusPair, NoteTokens]]:
    """Align every pair (cached) and tokenise it; a pair the reader or aligner refuses is skipped and logged."""
    from tqdm.auto import tqdm

    scores: dict[Path, ScoreData | None] = {}
    out: list[tuple[CorpusPair, NoteTokens]] = []
    skipped = 0
    for pair in tqdm(pairs, desc="s4 align", unit="pair", disable=not progress, mininterval=10):
        try:
            if pair.score not in scores:
                scores[pair.score] = read_score(pair.score)
            score = scores[pair.score]
            if score is None:
                continue
            tokens = tokens_from_aligned(align_performance(read_notes(pair.performance), score))
        except (PianoDataError, ValueError) as exc:
            skipped += 1
            log.warning("s4 corpus: skipped %s (%s)", pair.performance, exc)
            continue
        if len(tokens) >= 8:
            out.append((pair, tokens))
    if skipped:
        log.warning("s4 corpus: %d of %d pairs skipped", skipped, len(pairs))
    return out


def bar_windows(tokens: NoteTokens, bars: int, max_notes: int) -> list[tuple[int, NoteTokens]]:
    """Cut ``tokens`` into windows of ``bars`` bars starting at bar 0, bars, 2 bars, ... (each at most
    ``max_notes`` notes, the tail dropped); windows with fewer than 8 notes are left out."""
    out: list[tuple[int, NoteTokens]] = []
    if len(tokens) == 0:
        return out
    first, last = int(tokens.bar.min()), int(tokens.bar.max())
    start = first - first % bars
    while start <= last:
        rows = (tokens.bar >= start) & (tokens.bar < start + bars)
        idx = rows.nonzero()[0]
        if len(idx) >= 8:
            lo = int(idx[0])
            out.append((start, tokens.slice(lo, min(int(idx[-1]) + 1, lo + max_notes))))
        start += bars
    return out
