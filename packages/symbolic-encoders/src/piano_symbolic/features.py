"""Hand-crafted MIDI features of a performance, with deviations from its score where one is given.

51 features in six families (names in :data:`FEATURE_NAMES`):

- timing: inter-onset-interval statistics, chord spread, local tempo variability;
- velocity: level, spread, range, phrase shape, melody/accompaniment balance;
- articulation: duration over inter-onset interval (legato ratio), overlap rate;
- pedal: share of time down, changes per second, mean press length;
- density: notes per second, polyphony, pitch range;
- score deviation (zeros plus ``has_score=0`` without a score), read from the aligned representation
  (:func:`piano_symbolic.aligned.align_performance`: the project's aligner, deviations normalised by the local
  tempo): mean tempo ratio, onset deviation in beats (mean absolute, std, 90th percentile, mean), the local tempo
  curve (spread, 10-90% range, trend), inter-onset ratio spread, velocity against its local mean, within chords,
  top minus bottom voice and its correlation with the score's velocities, articulation (log performed over
  score duration), pedal at onsets, chord asynchrony and melody lead, missed, extra, substituted and matched
  rates, and the alignment's confidence.

Version 1 (38 features) matched notes greedily in normalised time; it was replaced by the aligner (version 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

import numpy as np
from piano_data.midi import NoteArray, read_notes
from piano_data.progress import progress_disabled
from piano_data.score import ScoreData, read_score, score_from_notes

from piano_symbolic.aligned import AlignedPerformance, align_performance

__all__ = ["FEATURE_NAMES", "FEATURE_VERSION", "N_SCORE_FEATURES", "extract_features", "features_for_files"]

#: Bump when a feature's definition changes (2: score family from the aligned representation, 24 features).
FEATURE_VERSION = 2
DEV_CLIP = 2.0  # onset deviations beyond +/- this many beats are clipped in the statistics

SCORE_FEATURE_NAMES: tuple[str, ...] = (
    "has_score", "tempo_ratio", "onset_dev_abs_mean", "onset_dev_std", "onset_dev_abs_p90", "onset_dev_mean",
    "tempo_curve_std", "tempo_curve_range", "tempo_trend", "ioi_ratio_log_std",
    "vel_local_std", "vel_chord_std", "vel_top_minus_bottom", "vel_score_corr",
    "artic_log_mean", "artic_log_std", "pedal_at_onset", "async_abs_mean", "melody_lead",
    "missed_rate", "extra_rate", "substituted_rate", "match_rate", "align_confidence",
)  # fmt: skip
N_SCORE_FEATURES = len(SCORE_FEATURE_NAMES)

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
    *SCORE_FEATURE_NAMES,
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


def _nan(values: np.ndarray, fn: str, default: float = 0.0) -> float:
    v = values[np.isfinite(values)]
    return float(getattr(np, fn)(v)) if v.size else default


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or a[ok].std() == 0 or b[ok].std() == 0:
        return 0.0
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def score_features(aligned: AlignedPerformance, score_velocity: np.ndarray | None = None) -> list[float]:
    """The score-deviation family (names after ``has_score`` in :data:`FEATURE_NAMES`) of an aligned performance.

    Rates count the score notes inside the played span; deviation statistics use matched notes, onset
    deviations clipped to +/- ``DEV_CLIP`` beats so that a rare wrong match does not dominate.
    """
    sn, pn = aligned.score_notes, aligned.performed_notes
    span = sn.in_played_span
    n_span = max(int(span.sum()), 1)
    m = sn.matched & span
    dev = np.clip(sn.onset_dev_beats[m], -DEV_CLIP, DEV_CLIP)
    first = np.unique(sn.chord[m], return_index=True)[1]  # one row per played chord for chord-level values
    tempo = sn.local_tempo[m][first]
    beat = sn.beat[m][first]
    trend = float(np.polyfit(beat, tempo, 1)[0] * max(np.ptp(beat), 1.0)) if len(first) > 2 else 0.0
    ioi = np.log(np.clip(sn.ioi_ratio[m][first], 0.05, 20.0))
    chord_size = np.bincount(sn.chord[m], minlength=int(sn.chord.max()) + 1)[sn.chord[m]]
    multi = chord_size > 1
    top, bottom = sn.top_voice[m] & multi, sn.bottom_voice[m] & multi
    balance = _nan(sn.velocity[m][top], "mean") - _nan(sn.velocity[m][bottom], "mean") if top.any() else 0.0
    lead = _nan(sn.asynchrony[m][top], "mean") - _nan(sn.asynchrony[m][multi & ~top], "mean") if top.any() else 0.0
    artic = np.log(np.clip(sn.articulation[m], 0.02, 50.0))
    vel_corr = _corr(sn.velocity[m], score_velocity[m].astype(np.float64)) if score_velocity is not None else 0.0
    n_perf = max(len(pn), 1)
    return [
        1.0,
        aligned.mean_tempo,
        _nan(np.abs(dev), "mean"),
        _nan(dev, "std"),
        float(np.percentile(np.abs(dev), 90)) if dev.size else 0.0,
        _nan(dev, "mean"),
        _nan(tempo, "std"),
        float(np.ptp(np.percentile(tempo, [10, 90]))) if tempo.size else 0.0,
        trend,
        _nan(ioi, "std"),
        _nan(sn.velocity_local[m], "std"),
        _nan(sn.velocity_chord[m][multi], "std"),
        balance,
        vel_corr,
        _nan(artic, "mean"),
        _nan(artic, "std"),
        float(sn.pedal[m].mean()) if m.any() else 0.0,
        _nan(np.abs(sn.asynchrony[m][multi]), "mean"),
        lead,
        float(((sn.status == "missed") & span).sum() / n_span),
        float((pn.status == "extra").sum() / n_perf),
        float(((sn.status == "substituted") & span).sum() / n_span),
        float(m.sum() / n_span),
        float(aligned.alignment.confidence),
    ]


def extract_features(
    perf: NoteArray,
    score: ScoreData | NoteArray | None = None,
    *,
    aligned: AlignedPerformance | None = None,
    cache: bool = True,
) -> np.ndarray:
    """The :data:`FEATURE_NAMES` vector of one performance (float64).

    With a score (a :class:`ScoreData`, or bare notes read as 4/4 at 120 qpm), the performance is aligned to it
    by :func:`piano_symbolic.aligned.align_performance` (cached unless ``cache`` is False), or ``aligned`` is
    used as given. Without either, the score family is zeros and ``has_score`` is 0.
    """
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
    if aligned is None and score is not None:
        data = score if isinstance(score, ScoreData) else score_from_notes(score)
        aligned = align_performance(perf, data, cache=cache)
        score_velocity: np.ndarray | None = data.notes.velocity
    else:
        score_velocity = None
    feats += score_features(aligned, score_velocity) if aligned is not None else [0.0] * N_SCORE_FEATURES
    out = np.asarray(feats, dtype=np.float64)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def features_for_files(
    performances: Sequence[str | PathLike[str]],
    scores: Sequence[str | PathLike[str] | None] | None = None,
) -> np.ndarray:
    """``[N, len(FEATURE_NAMES)]`` features; each score (MIDI or MusicXML) is read once however many performances
    share it, and each (performance, score) alignment is cached (see :mod:`piano_symbolic.aligned`)."""
    from tqdm.auto import tqdm

    score_cache: dict[str, ScoreData] = {}
    rows = []
    pairs = list(zip(performances, scores if scores is not None else [None] * len(performances), strict=True))
    quiet = len(pairs) < 50 or progress_disabled()  # bars only on a terminal, never with --quiet
    for perf_path, score_path in tqdm(pairs, desc="features", unit="file", leave=False, disable=quiet):
        score = None
        if score_path is not None:
            key = str(score_path)
            if key not in score_cache:
                score_cache[key] = read_score(score_path)
            score = score_cache[key]
        rows.append(extract_features(read_notes(perf_path), score))
    return np.stack(rows)
