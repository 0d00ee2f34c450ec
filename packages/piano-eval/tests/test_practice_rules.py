"""The bar feedback's rules on a small made-up piece (4 bars of 4/4 at 120 quarters per minute, real aligner):
a repeated note held instead of struck again is not a missed note, a key brushed much softer than the chord it
came with is not an extra note, and the same deviations made for real (a released key, a loud extra note) are
still reported. Also: the feedback comes from one aligned representation, passed in or built once."""

from __future__ import annotations

import numpy as np
import pytest
from piano_data.midi import NoteArray
from piano_data.score import ScoreData, score_from_notes
from piano_eval.practice.analysis import analyse
from piano_eval.practice.report import AnalysisConfig, BarFeedback, PracticeReport
from practice_helpers import FlatScorer

# (onset s, duration s, pitch): melody in eighths over a bass chord per half bar; bar 2 has G4 twice in a row
MELODY = [72, 74, 76, 77, 79, 77, 76, 74, 67, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 62, 64, 65, 67]
BASS = [(0.0, 48), (1.0, 53), (2.0, 43), (3.0, 50), (4.0, 45), (5.0, 41)]


_Flat = FlatScorer


def _score() -> ScoreData:
    rows = [(0.25 * i, 0.25, p) for i, p in enumerate(MELODY)]
    rows[8] = (2.0, 0.5, 67)  # the repeated G4: two quarters, 2.0-2.5 and 2.5-3.0, written to run into each other
    rows[9] = (2.5, 0.5, 67)
    rows = [r for i, r in enumerate(rows) if i not in (10, 11)] + [(3.0, 0.25, 69), (3.25, 0.25, 71)]
    rows += [(t, 1.0, p) for t, p in BASS] + [(6.0, 2.0, 60), (6.0, 2.0, 48)]
    rows.sort()
    on = np.array([r[0] for r in rows])
    dur = np.array([r[1] for r in rows])
    notes = NoteArray.from_arrays(on, on + dur, np.array([r[2] for r in rows]), np.full(len(rows), 64))
    return score_from_notes(notes)


def _perform(score: ScoreData, *, held: bool, extra_velocity: int | None) -> NoteArray:
    """The score played as written (1.1 times slower, velocity 70), without the second G4; the first G4 is held
    through the second's time (``held``) or released before it; optionally one extra C#4 with the bar 3 chord."""
    s = score.notes
    keep = ~((s.pitch == 67) & (np.abs(s.onset - 2.5) < 1e-6))
    on, off, pitch = s.onset[keep] * 1.1, s.offset[keep] * 1.1 - 0.02, s.pitch[keep].copy()
    first_g = np.flatnonzero((pitch == 67) & (np.abs(on - 2.2) < 1e-6))[0]
    off[first_g] = 3.25 if held else 2.6
    vel = np.full(len(on), 70)
    if extra_velocity is not None:
        on, off = np.append(on, 4.42), np.append(off, 4.72)
        pitch, vel = np.append(pitch, 61), np.append(vel, extra_velocity)
    return NoteArray.from_arrays(on, off, pitch, vel)


def _bar(report: PracticeReport, number: str) -> BarFeedback:
    return next(b for b in report.bars if b.number == number)


def test_held_repeated_note_is_not_missed() -> None:
    score = _score()
    report = analyse(_perform(score, held=True, extra_velocity=None), score, _Flat(), window_bars=2)
    assert report.trusted and _bar(report, "2").missed == [] and _bar(report, "2").ornaments >= 1


def test_released_repeated_note_is_missed() -> None:
    score = _score()
    report = analyse(_perform(score, held=False, extra_velocity=None), score, _Flat(), window_bars=2)
    assert _bar(report, "2").missed == ["G4"]
    assert [b.number for b in report.bars if b.flagged] == ["2"]


@pytest.mark.parametrize(("velocity", "expected"), [(20, []), (70, ["C#4"])])
def test_brushed_key_is_not_an_extra_note(velocity: int, expected: list[str]) -> None:
    score = _score()
    report = analyse(_perform(score, held=True, extra_velocity=velocity), score, _Flat(), window_bars=2)
    assert _bar(report, "3").extra == expected


def test_feedback_reads_the_given_aligned_performance() -> None:
    """Given an AlignedPerformance, analyse reads it (no second alignment): its statuses decide the feedback."""
    from dataclasses import replace

    from piano_symbolic.aligned import align_performance

    score = _score()
    perf = _perform(score, held=False, extra_velocity=None)
    ap = align_performance(perf, score, cache=False)
    assert _bar(analyse(perf, score, _Flat(), aligned=ap, window_bars=2), "2").missed == ["G4"]
    # the same aligned notes with the first bass note marked substituted: the report follows the representation
    status = ap.score_notes.status.copy()
    first = int(np.flatnonzero(score.notes.pitch == 48)[0])
    status[first] = "substituted"
    edited = replace(ap, score_notes=replace(ap.score_notes, status=status))
    bar1 = _bar(analyse(perf, score, _Flat(), aligned=edited, window_bars=2), "1")
    assert bar1.wrong == [{"expected": "C3", "played": "C3"}]
    with pytest.raises(ValueError, match="does not belong"):
        analyse(_perform(score, held=True, extra_velocity=70), score, _Flat(), aligned=ap)


def test_added_note_as_long_as_its_run_is_an_extra_note_a_grace_note_or_a_trill_is_not() -> None:
    """In a take played short and fast (every note 0.11 s), a D#4 added as long as its neighbours is an extra note;
    the ornament rule calls it one only while it ignores the passage (``ornament_context_ratio`` 0). A 30 ms F#4
    before the G4 of bar 2 is still a grace note, and a D4-D#4 trill of notes as long as the run's, over bar 4's
    held chord, is an ornament figure (an extra note each without ``figure_notes``)."""
    score = _score()
    s = score.notes
    trill = [7.7, 7.8, 7.9, 8.0]
    on = np.concatenate([s.onset * 1.1, [4.3 * 1.1, 1.95 * 1.1], trill])
    dur = np.concatenate([np.full(len(s), 0.11), [0.11, 0.03], np.full(4, 0.1)])
    pitch = np.concatenate([s.pitch, [63, 66], [62, 63, 62, 63]])
    perf = NoteArray.from_arrays(on, on + dur, pitch, np.full(len(on), 70))
    report = analyse(perf, score, _Flat(), window_bars=2)
    assert report.trusted and _bar(report, "3").extra == ["D#4"]
    assert not _bar(report, "1").flagged and _bar(report, "1").ornaments >= 1
    assert not _bar(report, "4").flagged and _bar(report, "4").ornaments == 4
    report = analyse(perf, score, _Flat(), window_bars=2, cfg=AnalysisConfig(ornament_context_ratio=0.0))
    assert not _bar(report, "3").flagged and not _bar(report, "1").flagged
    report = analyse(perf, score, _Flat(), window_bars=2, cfg=AnalysisConfig(figure_notes=0))
    assert _bar(report, "4").extra == ["D4", "D#4", "D4", "D#4"]
