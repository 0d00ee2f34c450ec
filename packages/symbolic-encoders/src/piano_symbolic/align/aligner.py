"""Our performance-to-score aligner: onset-event DTW (multiscale, bounded memory), then note matching.

1. Notes are grouped into onset events (score chords; performed onsets closer than ``perf_gap``), each
   described by the pitches that start there plus their pitch classes. A multiscale DTW over the two event
   sequences (memory O((N + M) * radius) for long pieces, a penalty on non-diagonal steps) gives a coarse
   monotone map; tempo changes and rubato cost nothing since events, not seconds, are warped.
2. Passes of pitch-wise note matching near the current map (thresholds ``passes``, wide then narrow) turn
   matches into anchors, one per score event, kept monotone; each pass refines the map used by the next.
3. Skipped sections (``repeats.py``) and restarts: a DTW that may jump back in the score (``jumpdtw.py``)
   splits the performance into takes, and the map follows the take that continues; for pieces too long for its
   full matrix, a run of unmatched performed notes that replays score music the map placed elsewhere is a take
   (``takes.py``).
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

from piano_symbolic.align.dtw import multiscale_dtw, normalize_rows, subsequence_dtw
from piano_symbolic.align.features import OnsetEvents, event_features, group_onsets, ioi_features
from piano_symbolic.align.jumpdtw import restart_takes, takes_prediction
from piano_symbolic.align.notematch import (
    anchors_from_matches,
    displaced_anchors,
    match_by_pitch,
    pitch_rarity,
    substitutions,
)
from piano_symbolic.align.repeats import find_jumps, jump_predictions, place_jumps
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
    jump_cost: float = 4.0  # jump-DTW cost of going back in the score (pieces whose event matrix fits max_cells)
    pause_jump_cost: float = 1.0  # ... right after a pause of at least restart_pause seconds
    restart_pause: float = 0.5
    restart_min_back: float = 1.0  # a restart goes back at least this many performance seconds
    partial_min: float = 3.0  # score seconds unplayed at the start or end that make an alignment "partial"
    displaced_dev: float = 0.1  # an anchor this far off its neighbours' line, bending the tempo both ways ...
    displaced_ratio: float = 1.5  # ... (faster / slower than this x the local tempo), is matched again without
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


def _coarse_map(
    score: NoteArray, perf: NoteArray, sev: OnsetEvents, pev: OnsetEvents, cfg: AlignConfig, excerpt: bool = False
) -> TimeMap:
    """The event-DTW map; with ``excerpt`` a subsequence DTW (the performance may start and end anywhere in the
    score: a practice excerpt)."""
    fs = normalize_rows(event_features(score, sev, cfg.chroma_weight))
    fp = normalize_rows(event_features(perf, pev, cfg.chroma_weight))
    if cfg.ioi_weight > 0:  # timing: where in a run of identical chords an extra or missing one sits
        span_s = max(float(sev.time[-1] - sev.time[0]), 1e-3)
        scale = max(float(pev.time[-1] - pev.time[0]), 1e-3) / span_s
        w = np.float32(cfg.ioi_weight)
        fs = np.hstack([fs, w * normalize_rows(ioi_features(sev.time))])
        fp = np.hstack([fp, w * normalize_rows(ioi_features(pev.time, scale))])
    if excerpt:
        path, _ = subsequence_dtw(fp, fs, step_penalty=cfg.step_penalty, gap_cost=cfg.gap_cost)
    else:
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


def trim_strays(
    tmap: TimeMap, pairs: np.ndarray, score: NoteArray, sev: OnsetEvents, min_jump: float, share: float = 0.1
) -> tuple[TimeMap, np.ndarray]:
    """Drop the anchors (and matches) before the first jump or after the last one of the map when they are few
    (at most ``share`` of the anchors, or 4) or sparse (per score second, under a third of the density of the
    anchors between the jumps): notes matched by chance in score music the performer never played (a practice
    excerpt), which would stretch the map over it."""
    jumps = find_jumps(tmap, sev, min_jump)
    if not jumps:
        return tmap, pairs
    s = tmap.score_time
    few = max(4, int(share * len(s)))
    first, last = sev.time[jumps[0].after], sev.time[jumps[-1].before]
    middle = (s >= first) & (s <= last)
    density = middle.sum() / max(last - first, 1e-3)

    def stray(part: np.ndarray) -> bool:
        n = int(part.sum())
        return n > 0 and (n <= few or n / max(float(np.ptp(s[part])), 1.0) < density / 3)

    lo, hi = -np.inf, np.inf
    if stray(s <= sev.time[jumps[0].before]):
        lo = first - 1e-9
    if stray(s >= sev.time[jumps[-1].after]):
        hi = last + 1e-9
    if lo == -np.inf and hi == np.inf:
        return tmap, pairs
    keep = (s >= lo) & (s <= hi)
    if keep.sum() < 2:
        return tmap, pairs
    on = score.onset[pairs[:, 0]]
    return TimeMap(s[keep], tmap.performance_time[keep]), pairs[(on >= lo) & (on <= hi)]


def _keep_unrecovered(
    found: tuple[np.ndarray, TimeMap],
    old_pairs: np.ndarray,
    old_map: TimeMap,
    displaced: np.ndarray,
    sev: OnsetEvents,
) -> tuple[np.ndarray, TimeMap]:
    """The pairs and map of a matching pass made without the ``displaced`` anchors of ``old_map``, except that
    a displaced anchor whose score event found no match in that pass is kept (with its matches)."""
    pairs, tmap = found
    lost = np.setdiff1d(old_map.score_time[displaced], tmap.score_time)
    if len(lost) == 0:
        return pairs, tmap
    back = np.isin(sev.time[sev.event[old_pairs[:, 0]]], lost) & ~np.isin(old_pairs[:, 1], pairs[:, 1])
    keep = np.isin(old_map.score_time, lost)
    s = np.concatenate([tmap.score_time, old_map.score_time[keep]])
    p = np.concatenate([tmap.performance_time, old_map.performance_time[keep]])
    pairs = np.concatenate([pairs, old_pairs[back]])
    return pairs[np.argsort(pairs[:, 0], kind="stable")], TimeMap.from_pairs(s, p)


def _played_span(
    tmap: TimeMap, score: NoteArray, performance: NoteArray, cfg: AlignConfig
) -> tuple[float, float] | None:
    """The score span from the first to the last performed onset (through the map, extrapolated with its mean
    tempo beyond its anchors, inside the score) when it leaves at least ``partial_min`` score seconds unplayed
    at the start or end, else None (the whole score)."""
    first, last = float(score.onset.min()), float(score.onset.max())
    p0, p1 = float(performance.onset.min()), float(performance.onset.max())
    s, p, k = tmap.score_time, tmap.performance_time, max(tmap.slope, 1e-6)
    s0 = float(s[0] + (p0 - p[0]) / k) if p0 < p[0] else float(np.interp(p0, p, s))
    s1 = float(s[-1] + (p1 - p[-1]) / k) if p1 > p[-1] else float(np.interp(p1, p, s))
    s0, s1 = max(s0, first), min(s1, last)
    if s0 - first >= cfg.partial_min or last - s1 >= cfg.partial_min:
        return s0, s1
    return None


def _monotone(
    score: NoteArray,
    performance: NoteArray,
    sev: OnsetEvents,
    pev: OnsetEvents,
    cfg: AlignConfig,
    weights: np.ndarray | None,
    excerpt: bool = False,
) -> tuple[TimeMap, np.ndarray, tuple[str, ...]]:
    """Coarse map, matching passes, stray anchors trimmed, skipped sections: the monotone alignment (map, note
    pairs, flags)."""
    tmap = _coarse_map(score, performance, sev, pev, cfg, excerpt)
    event_pred = tmap(sev.time)
    pairs = np.zeros((0, 2), dtype=np.int64)
    for threshold in cfg.passes:
        found = _matching_pass(score, performance, sev, event_pred, threshold, cfg, weights)
        if found is None:
            break
        pairs, tmap = found
        event_pred = leave_one_out(tmap, sev.time) if cfg.leave_one_out else tmap(sev.time)
    if cfg.displaced_dev > 0 and len(pairs):
        bad = displaced_anchors(tmap.score_time, tmap.performance_time, cfg.displaced_dev, cfg.displaced_ratio)
        if bad.any() and (~bad).sum() >= 2:  # match once more without them
            pruned = TimeMap(tmap.score_time[~bad], tmap.performance_time[~bad])
            found = _matching_pass(score, performance, sev, pruned(sev.time), cfg.passes[-1], cfg, weights)
            if found is not None:
                pairs, tmap = _keep_unrecovered(found, pairs, tmap, bad, sev)
    flags: tuple[str, ...] = ()
    if len(pairs):
        tmap, pairs = trim_strays(tmap, pairs, score, sev, cfg.min_jump)
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
    return tmap, pairs, flags


def _jump_restarts(
    score: NoteArray,
    performance: NoteArray,
    sev: OnsetEvents,
    pev: OnsetEvents,
    tmap: TimeMap,
    pairs: np.ndarray,
    cfg: AlignConfig,
    weights: np.ndarray | None,
) -> tuple[TimeMap, np.ndarray, tuple[Restart, ...]]:
    """Restarts from a DTW that may jump back in the score (``jumpdtw.py``); when it finds any, the map follows
    the takes that continue and the notes are matched again near it."""
    fs = event_features(score, sev, cfg.chroma_weight)
    fp = event_features(performance, pev, cfg.chroma_weight)
    path, takes = restart_takes(
        fp, fs, pev.time, sev.time, slope=tmap.slope, jump_cost=cfg.jump_cost, pause_jump_cost=cfg.pause_jump_cost,
        pause=cfg.restart_pause, min_back=cfg.restart_min_back,
        free=_played_span(tmap, score, performance, cfg) is not None,
    )  # fmt: skip
    if len(takes) < 2:
        return tmap, pairs, ()
    pred = takes_prediction(path, takes, pev.time, sev.time)
    new_pairs, new_map = pairs, tmap
    for threshold in cfg.passes[1:]:
        found = _matching_pass(score, performance, sev, pred, threshold, cfg, weights)
        if found is None:
            return tmap, pairs, ()
        new_pairs, new_map = found
        pred = new_map(sev.time)
    if len(new_pairs) < 0.97 * len(pairs):
        return tmap, pairs, ()
    restarts = tuple(Restart(float(pev.time[t.first_event]), float(sev.time[t.score_event])) for t in takes[1:])
    return new_map, new_pairs, restarts


def align_notes(score: NoteArray, performance: NoteArray, cfg: AlignConfig | None = None) -> Alignment:
    """Align a performance to its score; returns the time map, note matches (with substitutions), confidence,
    restarts, the played span and flags."""
    cfg = cfg or default_config()
    check_notes(score, "score")
    check_notes(performance, "performance")
    sev = group_onsets(score.onset, cfg.score_gap)
    pev = group_onsets(performance.onset, cfg.perf_gap)
    weights = pitch_rarity(score.onset, score.pitch, cfg.rarity_window) if cfg.rarity_window > 0 else None
    tmap, pairs, flags = _monotone(score, performance, sev, pev, cfg, weights)
    if _played_span(tmap, score, performance, cfg) is not None and len(sev) * len(pev) <= cfg.max_cells:
        # it looks like a practice excerpt: align it again as one (free start and end in the score) and keep
        # whichever alignment matches more notes
        alt = _monotone(score, performance, sev, pev, cfg, weights, excerpt=True)
        if len(alt[1]) > len(pairs):
            tmap, pairs, flags = alt
    restarts: tuple[Restart, ...] = ()
    if cfg.restarts and len(pairs) and len(sev) * len(pev) <= cfg.max_cells:
        tmap, pairs, restarts = _jump_restarts(score, performance, sev, pev, tmap, pairs, cfg, weights)
    elif cfg.restarts and len(pairs):
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
    span = _played_span(tmap, score, performance, cfg)
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
