"""Our performance-to-score aligner: onset-event DTW (multiscale, bounded memory), then note matching.

1. Notes are grouped into onset events (score chords; performed onsets closer than ``perf_gap``), each
   described by the pitches that start there plus their pitch classes. A multiscale DTW over the two event
   sequences (memory O((N + M) * radius) for long pieces, a penalty on non-diagonal steps) gives a coarse
   monotone map; tempo changes and rubato cost nothing since events, not seconds, are warped.
2. Passes of pitch-wise note matching near the current map (thresholds ``passes``, wide then narrow) turn
   matches into anchors, one per score event, kept monotone; each pass refines the map used by the next.
3. Skipped sections (``repeats.py``) and restarts (``takes.py``): a run of unmatched performed notes that
   replays score music the map placed elsewhere is a take; the map follows the take that continues.
4. The final map interpolates the anchors; its anchors span the part of the score played (``played_span`` when
   that is not the whole score, flag ``partial``). Score notes left unmatched are paired with unmatched
   performed notes of a near pitch at their predicted time (substitutions: wrong notes). Confidence is the
   share of the played span's score notes matched or substituted; flags mark alignments that are probably
   wrong (different piece) or a performance much longer than its score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray

from piano_symbolic.align.dtw import multiscale_dtw, normalize_rows
from piano_symbolic.align.features import OnsetEvents, event_features, group_onsets, ioi_features
from piano_symbolic.align.notematch import anchors_from_matches, match_by_pitch, pitch_rarity, substitutions
from piano_symbolic.align.repeats import jump_predictions, place_jumps
from piano_symbolic.align.takes import find_takes, follow_restarts, takes_restarts
from piano_symbolic.align.types import Alignment, NoteMatches, Restart, TimeMap

__all__ = ["AlignConfig", "align_notes", "check_notes", "default_config", "flag_alignment"]


@dataclass(frozen=True)
class AlignConfig:
    """Settings of :func:`align_notes` (times in seconds)."""

    score_gap: float = 0.02  # score notes closer than this form one event
    perf_gap: float = 0.03  # performed onsets closer than this form one event
    chroma_weight: float = 0.5  # weight of the pitch-class part of event features
    ioi_weight: float = 0.6  # weight of the inter-onset-interval part of event features (timing)
    max_cells: int = 4_000_000  # largest full DTW matrix; longer pieces go multiscale
    radius: int = 12  # multiscale DTW band half-width (events)
    step_penalty: float = 0.2  # extra cost of a non-diagonal DTW step (keeps repeated chords one-to-one)
    gap_cost: float = 0.5  # cap on a non-diagonal step's cost: lets the path jump over skipped sections
    min_similarity: float = 0.0  # DTW event pairs below this cosine similarity do not anchor the coarse map
    passes: tuple[float, ...] = (2.0, 0.6, 0.25)  # note-matching thresholds, one pass each
    skip: float = 0.5  # cost of leaving a note unmatched (a match costs |error| / threshold)
    anchor: Literal["min", "median", "mean"] = "median"  # performance time of a matched score event
    cluster_gap: float = 0.15  # matched onsets of one score event further apart than this are split
    rarity_window: float = 0.5  # weigh matches by 1 / same-pitch score notes within this many score seconds
    leave_one_out: bool = False  # predict each event from its neighbours' anchors in later passes
    repeat_jumps: bool = True  # move jumps over skipped repeats to the middle of their possible positions
    min_jump: float = 3.0  # score seconds played in (almost) no time that count as a jump
    restarts: bool = True  # find restarts (takes.py): the map follows the take that continues
    restart_min_notes: int = 5  # unmatched performed notes in a row that may be a take
    restart_window: float = 30.0  # score seconds around the map's position where a take is searched
    partial_min: float = 3.0  # score seconds unplayed at the start or end that make an alignment "partial"
    substitution_window: float = 0.12  # a wrong note lies within this many seconds of its score note's time
    substitution_semitones: int = 2  # ... and at most this many semitones away from it
    min_confidence: float = 0.5  # below this share of matched score notes (in the played span): "low_confidence"
    max_length_ratio: float = 1.6  # performed notes / score notes above this: "performance_longer_than_score"


def default_config() -> AlignConfig:
    """The preset used by the CLI and the benchmark."""
    return AlignConfig()


def check_notes(notes: NoteArray, what: str) -> None:
    """Raise :class:`PianoDataError` for note arrays an aligner cannot use."""
    if len(notes) == 0:
        raise PianoDataError(notes.source, f"{what} has no notes to align")
    if not np.all(np.isfinite(notes.onset)):
        raise PianoDataError(notes.source, f"{what} has non-finite onset times")


def _coarse_map(score: NoteArray, perf: NoteArray, sev: OnsetEvents, pev: OnsetEvents, cfg: AlignConfig) -> TimeMap:
    fs = normalize_rows(event_features(score, sev, cfg.chroma_weight))
    fp = normalize_rows(event_features(perf, pev, cfg.chroma_weight))
    if cfg.ioi_weight > 0:  # timing: where in a run of identical chords an extra or missing one sits
        span_s = max(float(sev.time[-1] - sev.time[0]), 1e-3)
        scale = max(float(pev.time[-1] - pev.time[0]), 1e-3) / span_s
        w = np.float32(cfg.ioi_weight)
        fs = np.hstack([fs, w * normalize_rows(ioi_features(sev.time))])
        fp = np.hstack([fp, w * normalize_rows(ioi_features(pev.time, scale))])
    path, _ = multiscale_dtw(
        fs, fp, max_cells=cfg.max_cells, radius=cfg.radius, step_penalty=cfg.step_penalty, gap_cost=cfg.gap_cost
    )
    sim = np.einsum("ij,ij->i", fs[path[:, 0]], fp[path[:, 1]])
    # per score event keep the best-matching performed event of its run on the path
    # score events the path runs through on the first or last performed event (the performance starts later in
    # the score or stops early: a practice excerpt) say nothing: keep only the best-matching one of each run
    for end in (0, len(fp) - 1):
        run = np.flatnonzero(path[:, 1] == end)
        if len(run) > 1:
            drop = np.setdiff1d(run, run[np.argmax(sim[run])])
            path, sim = np.delete(path, drop, axis=0), np.delete(sim, drop)
    order = np.lexsort((-sim, path[:, 0]))
    first = np.unique(path[order, 0], return_index=True)[1]
    best, best_sim = path[order][first], sim[order][first]
    sure = best_sim >= cfg.min_similarity  # events matched only weakly are interpolated from their neighbours
    if sure.sum() >= 2:
        best = best[sure]
    return TimeMap.from_pairs(sev.time[best[:, 0]], pev.time[best[:, 1]])


def leave_one_out(tmap: TimeMap, times: np.ndarray) -> np.ndarray:
    """``tmap(times)``, except that a time sitting on an anchor is interpolated from the anchors around it, so
    that a wrong anchor does not attract the same wrong matches again."""
    s, p = tmap.score_time, tmap.performance_time
    out = tmap(times)
    k = np.searchsorted(s, times)
    on = (k > 0) & (k < len(s) - 1)
    on[on] &= s[k[on]] == times[on]
    kk = k[on]
    w = (times[on] - s[kk - 1]) / (s[kk + 1] - s[kk - 1])
    out[on] = p[kk - 1] + w * (p[kk + 1] - p[kk - 1])
    return out


def flag_alignment(n_score: int, n_perf: int, confidence: float, cfg: AlignConfig) -> tuple[str, ...]:
    """Flags shared by all aligners: ``low_confidence``, ``performance_longer_than_score``."""
    flags = []
    if confidence < cfg.min_confidence:
        flags.append("low_confidence")
    if n_perf > cfg.max_length_ratio * n_score:
        flags.append("performance_longer_than_score")
    return tuple(flags)


def _matching_pass(
    score: NoteArray,
    performance: NoteArray,
    sev: OnsetEvents,
    event_pred: np.ndarray,
    threshold: float,
    cfg: AlignConfig,
    weights: np.ndarray | None = None,
    played: np.ndarray | None = None,
) -> tuple[np.ndarray, TimeMap] | None:
    """One pass of pitch-wise matching near ``event_pred``: the kept note pairs and the map of their anchors
    (None when fewer than two anchors). Score notes outside ``played`` (a mask over notes) are not matched."""
    idx = np.arange(len(score)) if played is None else np.flatnonzero(played)
    found = match_by_pitch(
        event_pred[sev.event[idx]], score.pitch[idx], performance.onset, performance.pitch, threshold, cfg.skip
    )
    found[:, 0] = idx[found[:, 0]]
    s_anchor, p_anchor, inlier = anchors_from_matches(
        found, sev, performance.onset, cfg.anchor, event_pred, cfg.cluster_gap, weights
    )
    if len(s_anchor) < 2:
        return None
    return found[inlier], TimeMap.from_pairs(s_anchor, p_anchor)


def _played_span(tmap: TimeMap, score: NoteArray, cfg: AlignConfig) -> tuple[float, float] | None:
    """The score span of the map's anchors when it leaves at least ``partial_min`` score seconds unplayed at the
    start or end, else None (the whole score)."""
    s0, s1 = float(tmap.score_time[0]), float(tmap.score_time[-1])
    first, last = float(score.onset.min()), float(score.onset.max())
    if s0 - first >= cfg.partial_min or last - s1 >= cfg.partial_min:
        return s0, s1
    return None


def align_notes(score: NoteArray, performance: NoteArray, cfg: AlignConfig | None = None) -> Alignment:
    """Align a performance to its score; returns the time map, note matches (with substitutions), confidence,
    restarts, the played span and flags."""
    cfg = cfg or default_config()
    check_notes(score, "score")
    check_notes(performance, "performance")
    sev = group_onsets(score.onset, cfg.score_gap)
    pev = group_onsets(performance.onset, cfg.perf_gap)
    tmap = _coarse_map(score, performance, sev, pev, cfg)
    event_pred = tmap(sev.time)
    pairs = np.zeros((0, 2), dtype=np.int64)
    weights = pitch_rarity(score.onset, score.pitch, cfg.rarity_window) if cfg.rarity_window > 0 else None
    for threshold in cfg.passes:
        found = _matching_pass(score, performance, sev, event_pred, threshold, cfg, weights)
        if found is None:
            break
        pairs, tmap = found
        event_pred = leave_one_out(tmap, sev.time) if cfg.leave_one_out else tmap(sev.time)
    flags: tuple[str, ...] = ()
    if cfg.repeat_jumps and len(pairs):
        placed = place_jumps(tmap, score, sev, cfg.min_jump)
        if placed.skipped:
            flags = ("skipped_section",)
            # match once more, predicting the music on each side of a jump from the tempo on that side (the
            # interpolated map smears the jump over the events next to it, which then find no match)
            pred, use = jump_predictions(placed.time_map, sev.time, placed.skipped)
            found = _matching_pass(score, performance, sev, pred, cfg.passes[-1], cfg, weights, use[sev.event])
            if found is not None:
                pairs, tmap = found
    restarts: tuple[Restart, ...] = ()
    if cfg.restarts and len(pairs):
        takes = find_takes(
            score, performance, sev, tmap, pairs, min_notes=cfg.restart_min_notes, window=cfg.restart_window,
            perf_gap=cfg.perf_gap, skip=cfg.skip,
        )  # fmt: skip
        restarts = takes.restarts
        if restarts:  # the map follows the takes that continue: rebuild it, then match once more near it
            kept, _ = follow_restarts(tmap, takes.pairs, score, performance, sev.time, restarts)
            s_anchor, p_anchor, _ = anchors_from_matches(
                kept, sev, performance.onset, cfg.anchor, None, cfg.cluster_gap, weights
            )
            if len(s_anchor) >= 2:
                rebuilt = TimeMap.from_pairs(s_anchor, p_anchor)
                _, pred = follow_restarts(rebuilt, kept, score, performance, sev.time, restarts)
                found = _matching_pass(score, performance, sev, pred, cfg.passes[-1], cfg, weights)
                if found is not None:
                    pairs, tmap = found
                    restarts = tuple(takes_restarts(score, performance, pairs, takes.abandoned, tmap.slope))
            flags += ("restart",) if restarts else ()
    span = _played_span(tmap, score, cfg)
    if span is not None:
        flags += ("partial",)
    subs = substitutions(score, performance, pairs, tmap, span, cfg.substitution_window, cfg.substitution_semitones)
    matches = NoteMatches.from_pairs(pairs, len(score), len(performance), subs)
    lo, hi = span if span is not None else (-np.inf, np.inf)
    in_span = (score.onset >= lo - 1e-9) & (score.onset <= hi + 1e-9)
    played = matches.score_index[(matches.performance_index >= 0) & (matches.score_index >= 0)]
    confidence = float(np.isin(np.flatnonzero(in_span), played).mean()) if in_span.any() else 0.0
    flags = flag_alignment(int(in_span.sum()), len(performance), confidence, cfg) + flags
    return Alignment(tmap, matches, confidence, "ours", flags, restarts, span)
