"""How sure the bar feedback is that a departure from the score is a mistake.

Players depart from the score MIDI in ways that are not always mistakes: a written-out ornament realised
differently, an inner chord note or an octave doubling left out, an octave doubling added, a passage skipped or
lost by the alignment (most of a bar "missed"), a very short note, an extra note much softer than its chord.
Each missed, extra or wrong note starts at confidence 1 and is multiplied by the factor of every such reason
that applies to it (the factors are :class:`~piano_eval.practice.analysis.AnalysisConfig` fields; 1 switches a
reason off). A note at or above ``min_confidence`` is reported as a mistake (the bar is flagged); one below is
listed as a departure the tool is unsure of, with its reasons, and does not flag the bar.

Every reason reads the score and the performance only (never how a benchmark made its mistakes), and, when
reference performances of the same score are given (:mod:`piano_eval.practice.references`), what they did: a
departure enough of them share (``reference_share``) is the score's, not this player's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from piano_data.midi import NoteArray

if TYPE_CHECKING:
    from collections.abc import Callable

    from piano_data.score import ScoreData
    from piano_symbolic.aligned import AlignedPerformance

    from piano_eval.practice.note_classes import NoteClasses
    from piano_eval.practice.references import ReferenceDepartures
    from piano_eval.practice.report import AnalysisConfig

__all__ = ["NoteConfidence", "note_confidence"]


@dataclass(frozen=True)
class NoteConfidence:
    """Confidence in [0, 1] and the reasons for doubt, per score note (missed/wrong) and per performed note
    (extra); 1 and no reason for every other note."""

    score: np.ndarray  # [S]
    score_reasons: list[list[str]]  # [S]
    perf: np.ndarray  # [P]
    perf_reasons: list[list[str]]  # [P]


def _ornament_notes(score: ScoreData, beat: np.ndarray, cfg: AnalysisConfig) -> np.ndarray:
    """Score notes of a written-out ornament, among the notes shorter than ``ornament_score_beats``: a trill or
    turn (within half a beat another short note of the same pitch and one 1-2 semitones away) or a grace note
    (the next note within 2 semitones, starting as it ends, lasts at least twice as long)."""
    s = score.notes
    short = np.flatnonzero(s.duration < cfg.ornament_score_beats * beat)
    out = np.zeros(len(s), dtype=bool)
    for i in short:
        near = short[(np.abs(s.onset[short] - s.onset[i]) <= 0.5 * beat[i]) & (short != i)]
        step = np.abs(s.pitch[near].astype(int) - int(s.pitch[i]))
        trill = bool(np.any(step == 0) and np.any((step >= 1) & (step <= 2)))
        nxt = np.flatnonzero(
            (np.abs(s.onset - s.offset[i]) <= 0.05 * beat[i]) & (np.abs(s.pitch.astype(int) - int(s.pitch[i])) <= 2)
        )
        grace = bool(len(nxt) and np.any(s.duration[nxt] >= 2 * s.duration[i]))
        out[i] = trill or grace
    return out


def note_confidence(
    perf: NoteArray,
    score: ScoreData,
    ap: AlignedPerformance,
    cls: NoteClasses,
    beat_len: Callable[[np.ndarray], np.ndarray],
    cfg: AnalysisConfig,
    refs: ReferenceDepartures | None = None,
) -> NoteConfidence:
    """Confidence that each missed, wrong and extra note is a mistake (see the module docstring); ``refs``: what
    reference performances of the same score did (:mod:`piano_eval.practice.references`)."""
    s = score.notes
    n_s, n_p = len(s), len(perf)
    conf_s, conf_p = np.ones(n_s), np.ones(n_p)
    why_s: list[list[str]] = [[] for _ in range(n_s)]
    why_p: list[list[str]] = [[] for _ in range(n_p)]

    def doubt(conf: np.ndarray, why: list[list[str]], idx: np.ndarray, factor: float, reason: str) -> None:
        if factor >= 1.0:
            return
        for i in idx:
            conf[i] *= factor
            why[i].append(reason)

    beat = beat_len(s.onset)
    status = cls.score_status
    off_score = np.isin(status, ("missed", "wrong"))
    missed = status == "missed"

    # a written-out ornament: realised in many ways, never a clear mistake note by note
    doubt(conf_s, why_s, np.flatnonzero(off_score & _ornament_notes(score, beat, cfg)), cfg.doubt_ornament,
          "ornament")  # fmt: skip

    # chord notes: an inner note (neither top nor bass) of a chord of three or more, and a note whose pitch
    # class another, played, note of its chord sounds (an octave doubling left out)
    chord = np.asarray(ap.score_notes.chord)
    sounded = status != "missed"
    for i in np.flatnonzero(missed):
        mates = np.flatnonzero(chord == chord[i])
        others = mates[mates != i]
        if len(mates) >= 3 and s.pitch[mates].min() < s.pitch[i] < s.pitch[mates].max():
            doubt(conf_s, why_s, np.array([i]), cfg.doubt_inner, "inner chord note")
        if np.any(sounded[others] & (s.pitch[others] % 12 == s.pitch[i] % 12) & (s.pitch[others] != s.pitch[i])):
            doubt(conf_s, why_s, np.array([i]), cfg.doubt_doubling, "octave doubling")

    # most of the bar not found: a skipped passage or one the alignment lost, not note-by-note mistakes
    n_bars = len(score.bar_times)
    total = np.bincount(cls.score_bar, minlength=n_bars)
    lost = np.bincount(cls.score_bar[missed], minlength=n_bars)
    lost_bar = (lost >= 2) & (lost >= cfg.lost_bar_share * np.maximum(total, 1))
    doubt(
        conf_s, why_s, np.flatnonzero(missed & lost_bar[cls.score_bar]), cfg.doubt_lost_bar, "most of the bar not found"
    )

    order = np.argsort(s.onset)
    s_sorted = s.onset[order]
    # an extra note an octave from a note the score sounds right there: an added octave doubling
    extra = np.flatnonzero(cls.perf_status == "extra")
    if len(extra):
        t = cls.perf_score_time[extra]
        tol = cfg.doubling_beats * beat_len(t)
        for k, pi in enumerate(extra):
            lo = np.searchsorted(s_sorted, t[k] - tol[k])
            hi = np.searchsorted(s_sorted, t[k] + tol[k], side="right")
            d = np.abs(s.pitch[order[lo:hi]].astype(int) - int(perf.pitch[pi]))
            if np.any((d > 0) & (d % 12 == 0)):
                doubt(conf_p, why_p, np.array([pi]), cfg.doubt_doubling, "added octave doubling")
    # short notes: a missed/wrong score note shorter than short_beats, an extra note shorter than short_s;
    # and an extra note clearly softer than the notes struck with it
    doubt(
        conf_s, why_s, np.flatnonzero(off_score & (s.duration < cfg.short_beats * beat)), cfg.doubt_short, "short note"
    )
    if len(extra):
        doubt(conf_p, why_p, extra[perf.duration[extra] < cfg.short_s], cfg.doubt_short, "short note")
        soft = []
        for pi in extra:
            mates = np.flatnonzero(np.abs(perf.onset - perf.onset[pi]) <= cfg.brushed_window_s)
            mates = mates[mates != pi]
            if len(mates) and perf.velocity[pi] < cfg.soft_ratio * np.median(perf.velocity[mates]):
                soft.append(pi)
        doubt(conf_p, why_p, np.array(soft, dtype=int), cfg.doubt_soft, "soft")

    # the reference performances depart here too: the score (edition, encoding), not this player
    if refs is not None and refs.n:
        off = np.flatnonzero(off_score)
        doubt(conf_s, why_s, off[refs.shared_score(off, cfg.reference_share)], cfg.doubt_reference,
              "the references depart here too")  # fmt: skip
        if len(extra):
            t = cls.perf_score_time[extra]
            shared = refs.shared_added(
                t, perf.pitch[extra].astype(int), cls.perf_bar[extra], cfg.reference_beats * beat_len(t),
                cfg.reference_share,
            )  # fmt: skip
            doubt(conf_p, why_p, extra[shared], cfg.doubt_reference, "the references add it too")
    return NoteConfidence(conf_s, why_s, conf_p, why_p)
