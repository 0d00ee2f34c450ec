"""Hand-crafted MIDI features of a performance, with deviations from its score where one is given.

38 features in six families (names in :data:`FEATURE_NAMES`):

- timing: inter-onset-interval statistics, chord spread, local tempo variability;
- velocity: level, spread, range, phrase shape, melody/accompaniment balance;
- articulation: duration over inter-onset interval (legato ratio), overlap rate;
- pedal: share of time down, changes per second, mean press length;
- density: notes per second, polyphony, pitch range;
- score deviation (zeros plus ``has_score=0`` without a score): notes matched to the score by pitch in
  normalised time, then tempo ratio, onset deviation after a linear time fit, local tempo curve spread,
  velocity and duration deviation, missed and extra note rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

import numpy as np
from piano_data.midi import NoteArray, read_notes
from piano_data.progress import progress_disabled

__all__ = ["FEATURE_NAMES", "extract_features", "features_for_files", "match_to_score"]

FEATURE_NAMES: tuple[str, ...] = (
    # timing
    "ioi_mean", "ioi_std", "ioi_cv", "ioi_log_std", "chord_spread", "local_tempo_std", "duration_s",
    # velocity
    "vel_mean", "vel_std", "vel_p10", "vel_p90", "vel_range", "vel_slope", "vel_phrase_corr",
    "vel_melody_minus_bass", "vel_diff_abs_mean",
    # articulation
    "legato_ratio_mean", "legato_ratio_std", "overlap_rate", "dur_mean",
    # pedal
    "pedal_share", "pedal_changes_per_s", "pedal_press_mean",
    # density
    "notes_per_s", "polyphony_mean", "pitch_range", "pitch_mean",
    # score deviation
    "has_score", "tempo_ratio", "onset_dev_std", "onset_dev_abs_mean", "tempo_curve_std",
    "vel_dev_std", "dur_ratio_log_mean", "dur_ratio_log_std", "missed_rate", "extra_rate", "match_rate",
)  # fmt: skip


def _safe(values: np.ndarray, fn: str, default: float = 0.0) -> float:
    if values.size == 0:
        return default
    return float(getattr(np, fn)(values))


def _onset_clusters(onset: np.ndarray, tol: float = 0.05) -> np.ndarray:
    """Cluster id per note: notes within ``tol`` seconds of the cluster's first note form a chord."""
    ids = np.zeros(len(onset), dtype=np.int64)
    start = onset[0] if len(onset) else 0.0
    for i in range(1, len(onset)):
        if onset[i] - start > tol:
            ids[i] = ids[i - 1] + 1
            start = onset[i]
        else:
            ids[i] = ids[i - 1]
    return ids


def match_to_score(perf: NoteArray, score: NoteArray, window: float = 0.08) -> np.ndarray:
    """``[M, 2]`` (score index, performance index) pairs of the same pitch, nearest in normalised time.

    Both note lists are mapped to [0, 1] by their first and last onsets; each score note takes the closest unused
    performance note of its pitch within ``window`` (a fraction of the piece). Greedy, in score order.
    """

    def norm(x: np.ndarray) -> np.ndarray:
        span = x.max() - x.min() if len(x) > 1 else 1.0
        return (x - x.min()) / (span if span > 0 else 1.0)

    if len(perf) == 0 or len(score) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    ps, ss = norm(perf.onset), norm(score.onset)
    used = np.zeros(len(perf), dtype=bool)
    pairs = []
    by_pitch: dict[int, np.ndarray] = {int(p): np.flatnonzero(perf.pitch == p) for p in np.unique(perf.pitch)}
    for i in range(len(score)):
        cand = by_pitch.get(int(score.pitch[i]))
        if cand is None:
            continue
        cand = cand[~used[cand]]
        if len(cand) == 0:
            continue
        d = np.abs(ps[cand] - ss[i])
        j = int(np.argmin(d))
        if d[j] <= window:
            used[cand[j]] = True
            pairs.append((i, int(cand[j])))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _score_features(perf: NoteArray, score: NoteArray) -> list[float]:
    pairs = match_to_score(perf, score)
    n_match = len(pairs)
    missed = 1.0 - n_match / max(len(score), 1)
    extra = 1.0 - n_match / max(len(perf), 1)
    if n_match < 4:
        return [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, missed, extra, n_match / max(len(score), 1)]
    s_on, p_on = score.onset[pairs[:, 0]], perf.onset[pairs[:, 1]]
    slope, intercept = np.polyfit(s_on, p_on, 1)
    resid = p_on - (slope * s_on + intercept)
    # local tempo: performance span over score span between successive distinct matched score onsets
    order = np.argsort(s_on, kind="stable")
    ds, dp = np.diff(s_on[order]), np.diff(p_on[order])
    keep = ds > 0.05
    local = np.log(np.clip(dp[keep] / ds[keep], 0.1, 10.0)) if keep.any() else np.zeros(1)
    vel_dev = perf.velocity[pairs[:, 1]] - score.velocity[pairs[:, 0]]
    s_dur = np.maximum(score.duration[pairs[:, 0]], 1e-3)
    d_ratio = np.log(np.clip(perf.duration[pairs[:, 1]] / s_dur, 1e-2, 1e2))
    return [
        1.0,
        float(slope),
        float(resid.std()),
        float(np.abs(resid).mean()),
        float(local.std()),
        float(vel_dev.std()),
        float(d_ratio.mean()),
        float(d_ratio.std()),
        missed,
        extra,
        n_match / max(len(score), 1),
    ]


def extract_features(perf: NoteArray, score: NoteArray | None = None) -> np.ndarray:
    """The :data:`FEATURE_NAMES` vector of one performance (float64)."""
    if len(perf) < 2:
        raise ValueError(f"{perf.source or 'performance'}: needs at least two notes for features")
    onset, vel, dur = perf.onset, perf.velocity.astype(np.float64), perf.duration
    clusters = _onset_clusters(onset)
    n_clusters = int(clusters[-1]) + 1
    c_on = np.array([onset[clusters == c].min() for c in range(n_clusters)])
    spread = np.array([np.ptp(onset[clusters == c]) for c in range(n_clusters)])
    ioi = np.diff(c_on)
    ioi = ioi[ioi > 0]
    total = max(perf.end_time - onset[0], 1e-3)
    local_tempo = np.log(ioi[1:] / ioi[:-1]) if len(ioi) > 2 else np.zeros(1)

    # velocity shape: linear trend, correlation with an arch over the segment, top vs bottom voice
    t_norm = (onset - onset[0]) / max(onset[-1] - onset[0], 1e-3)
    slope = float(np.polyfit(t_norm, vel, 1)[0]) if len(vel) > 2 else 0.0
    arch = np.sin(np.pi * t_norm)
    phrase_corr = float(np.corrcoef(arch, vel)[0, 1]) if vel.std() > 0 and arch.std() > 0 else 0.0
    melody = np.array([vel[clusters == c][np.argmax(perf.pitch[clusters == c])] for c in range(n_clusters)])
    bass = np.array([vel[clusters == c][np.argmin(perf.pitch[clusters == c])] for c in range(n_clusters)])

    # articulation: duration relative to the time until the next chord
    next_on = np.append(c_on[1:], c_on[-1] + (np.median(ioi) if len(ioi) else 0.5))
    gap = np.maximum(next_on[clusters] - onset, 1e-3)
    legato = np.clip(dur / gap, 0.0, 5.0)

    # pedal
    ped = perf.pedal
    ped_len = (ped[:, 1] - ped[:, 0]) if len(ped) else np.zeros(0)
    grid = np.linspace(onset[0], perf.end_time, 200)
    polyphony = ((perf.onset[None, :] <= grid[:, None]) & (perf.offset[None, :] > grid[:, None])).sum(1)

    feats = [
        _safe(ioi, "mean"), _safe(ioi, "std"), _safe(ioi, "std") / max(_safe(ioi, "mean"), 1e-3),
        _safe(np.log(ioi) if len(ioi) else ioi, "std"), float(spread.mean()), float(local_tempo.std()), total,
        float(vel.mean()), float(vel.std()), float(np.percentile(vel, 10)), float(np.percentile(vel, 90)),
        float(np.ptp(vel)), slope, phrase_corr, float((melody - bass).mean()), float(np.abs(np.diff(vel)).mean()),
        float(legato.mean()), float(legato.std()), float((legato > 1.0).mean()), float(dur.mean()),
        float(perf.pedal_down(grid).mean()), len(ped) / total, _safe(ped_len, "mean"),
        len(perf) / total, float(polyphony.mean()), float(np.ptp(perf.pitch)), float(perf.pitch.mean()),
    ]  # fmt: skip
    feats += _score_features(perf, score) if score is not None else [0.0] * 11
    out = np.asarray(feats, dtype=np.float64)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def features_for_files(
    performances: Sequence[str | PathLike[str]],
    scores: Sequence[str | PathLike[str] | None] | None = None,
) -> np.ndarray:
    """``[N, len(FEATURE_NAMES)]`` features; each score MIDI is read once however many performances share it."""
    from tqdm.auto import tqdm

    score_cache: dict[str, NoteArray] = {}
    rows = []
    pairs = list(zip(performances, scores if scores is not None else [None] * len(performances), strict=True))
    quiet = len(pairs) < 50 or progress_disabled()  # bars only on a terminal, never with --quiet
    for perf_path, score_path in tqdm(pairs, desc="features", unit="file", leave=False, disable=quiet):
        score = None
        if score_path is not None:
            key = str(score_path)
            if key not in score_cache:
                score_cache[key] = read_notes(score_path)
            score = score_cache[key]
        rows.append(extract_features(read_notes(perf_path), score))
    return np.stack(rows)
