"""Reference aligners for the alignment benchmarks (not part of any wheel): plain frame DTW and parangonar's
default note matcher.

- :func:`plain_dtw_align`: one full DTW over frame-wise piano-roll + chroma features (cosine cost), at a hop
  of 50 ms, coarsened only as much as needed to keep the matrix under ``max_cells``.
- :func:`parangonar_align`: a thin wrapper of ``parangonar.DualDTWNoteMatcher`` (the matcher its
  ``match_midis`` uses for a score MIDI), with the score's seconds as its ``onset_beat``; its note matches
  become a time map through the same :func:`~piano_symbolic.align.notematch.anchors_from_matches` as ours.
"""

from __future__ import annotations

import logging

import numpy as np
from piano_data.midi import NoteArray
from piano_symbolic.align.aligner import AlignConfig, check_notes, default_config, flag_alignment
from piano_symbolic.align.dtw import dtw, normalize_rows
from piano_symbolic.align.features import frame_features, group_onsets
from piano_symbolic.align.notematch import anchors_from_matches
from piano_symbolic.align.types import Alignment, NoteMatches, TimeMap

__all__ = ["parangonar_align", "plain_dtw_align", "plain_dtw_hop"]


def plain_dtw_hop(score: NoteArray, performance: NoteArray, hop: float = 0.05, max_cells: int = 16_000_000):
    """The frame hop of the plain DTW: ``hop`` unless the full matrix would exceed ``max_cells``."""
    cells = (score.end_time / hop + 1) * (performance.end_time / hop + 1)
    return hop if cells <= max_cells else float(np.sqrt(score.end_time * performance.end_time / max_cells))


def plain_dtw_align(
    score: NoteArray, performance: NoteArray, hop: float = 0.05, max_cells: int = 16_000_000
) -> Alignment:
    """Plain DTW on piano-roll/chroma frames; no note matches."""
    check_notes(score, "score")
    check_notes(performance, "performance")
    hop = plain_dtw_hop(score, performance, hop, max_cells)
    fs = normalize_rows(frame_features(score, hop))
    fp = normalize_rows(frame_features(performance, hop))
    path, _ = dtw(fs, fp)
    sim = np.einsum("ij,ij->i", fs[path[:, 0]], fp[path[:, 1]])
    tmap = TimeMap.from_pairs(path[:, 0] * hop, path[:, 1] * hop)
    confidence = float(np.mean(sim))
    flags = flag_alignment(len(score), len(performance), confidence, default_config())
    return Alignment(tmap, None, confidence, "plain-dtw", flags)


def _score_array(score: NoteArray) -> np.ndarray:
    dtype = [
        ("onset_beat", "f4"), ("duration_beat", "f4"), ("onset_sec", "f4"), ("duration_sec", "f4"),
        ("pitch", "i4"), ("velocity", "i4"), ("id", "U16"), ("is_grace", "b"),
    ]  # fmt: skip
    arr = np.zeros(len(score), dtype=dtype)
    arr["onset_beat"] = arr["onset_sec"] = score.onset
    arr["duration_beat"] = arr["duration_sec"] = score.duration
    arr["pitch"], arr["velocity"] = score.pitch, score.velocity
    arr["id"] = [f"s{i}" for i in range(len(score))]
    return arr


def _perf_array(perf: NoteArray) -> np.ndarray:
    dtype = [("onset_sec", "f4"), ("duration_sec", "f4"), ("pitch", "i4"), ("velocity", "i4"), ("id", "U16")]
    arr = np.zeros(len(perf), dtype=dtype)
    arr["onset_sec"], arr["duration_sec"] = perf.onset, perf.duration
    arr["pitch"], arr["velocity"] = perf.pitch, perf.velocity
    arr["id"] = [f"p{i}" for i in range(len(perf))]
    return arr


def parangonar_align(score: NoteArray, performance: NoteArray, cfg: AlignConfig | None = None) -> Alignment:
    """parangonar's ``DualDTWNoteMatcher`` note matches, turned into a time map like ours."""
    import parangonar  # heavy import (partitura); only for the reference

    cfg = cfg or default_config()
    check_notes(score, "score")
    check_notes(performance, "performance")
    logging.getLogger("parangonar").setLevel(logging.ERROR)
    result = parangonar.DualDTWNoteMatcher()(_score_array(score), _perf_array(performance))
    pairs = np.array(
        [(int(m["score_id"][1:]), int(m["performance_id"][1:])) for m in result if m["label"] == "match"],
        dtype=np.int64,
    ).reshape(-1, 2)
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
    sev = group_onsets(score.onset, cfg.score_gap)
    rough = TimeMap.from_pairs(score.onset[pairs[:, 0]], performance.onset[pairs[:, 1]]) if len(pairs) else None
    predicted = rough(sev.time) if rough is not None else None
    s_anchor, p_anchor, _ = anchors_from_matches(pairs, sev, performance.onset, cfg.anchor, predicted, cfg.cluster_gap)
    if len(s_anchor) == 0:  # nothing matched: a straight line over both spans
        s_anchor = np.array([score.onset[0], score.end_time])
        p_anchor = np.array([performance.onset[0], performance.end_time])
    matches = NoteMatches.from_pairs(pairs, len(score), len(performance))
    confidence = matches.n_matched / len(score)
    flags = flag_alignment(len(score), len(performance), confidence, cfg)
    return Alignment(TimeMap.from_pairs(s_anchor, p_anchor), matches, float(confidence), "parangonar", flags)
