"""The beat check of ``benchmarks/bench_score.py`` (not shipped in a wheel; imported from the repository): the
departures a performance shows against its score through the beat annotations alone, without the aligner."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from piano_data.midi import NoteArray
from piano_data.score import ScoreData
from piano_eval.practice.report import BarFeedback, pitch_name

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
if not (BENCHMARKS / "bench_score.py").is_file():  # pragma: no cover - an installed wheel without the repository
    pytest.skip("benchmarks/bench_score.py is not in this checkout", allow_module_level=True)
sys.path.insert(0, str(BENCHMARKS))

from bench_score import beat_check, confirmed  # noqa: E402


def _warp(t: np.ndarray) -> np.ndarray:
    return 2.0 + 1.4 * t + 0.15 * np.sin(t)  # a performance tempo that drifts, as a player's does


def _score() -> ScoreData:
    rng = np.random.default_rng(3)
    beats = np.arange(33) * 0.5  # 8 bars of 4/4 at 120 bpm, one note per beat, then the final beat
    onset = beats[:32]
    pitch = rng.choice(np.arange(48, 84), size=32, replace=False)  # no pitch twice: every pairing is unambiguous
    notes = NoteArray.from_arrays(onset, onset + 0.45, pitch, np.full(32, 64))
    return ScoreData(notes, beats[:32:4].copy(), [str(i + 1) for i in range(8)], beats, [(0.0, 4, 4)], "synthetic")


def _performance(score: ScoreData, drop: int, wrong: int, extra_at: float) -> NoteArray:
    s = score.notes
    keep = np.arange(len(s.onset)) != drop
    on = _warp(s.onset[keep]) + np.random.default_rng(0).normal(0, 0.01, keep.sum())  # a little timing noise
    pitch = s.pitch[keep].copy()
    pitch[np.flatnonzero(np.flatnonzero(keep) == wrong)] += 1  # a wrong note, one semitone up
    on = np.append(on, _warp(extra_at))
    pitch = np.append(pitch, 100)  # an extra note of a pitch the score never has
    order = np.argsort(on, kind="stable")
    return NoteArray.from_arrays(on[order], on[order] + 0.3, pitch[order], np.full(len(on), 70))


def test_the_beat_check_finds_exactly_the_departures_of_a_warped_performance() -> None:
    score = _score()
    perf = _performance(score, drop=5, wrong=20, extra_at=9.25)
    chk = beat_check(perf, score, _warp(score.beat_times), score.beat_times)
    assert set(np.flatnonzero(chk["missing"])) == {5, 20}
    added = np.flatnonzero(chk["unmatched"])
    assert sorted(perf.pitch[added].tolist()) == sorted([100, int(score.notes.pitch[20]) + 1])
    np.testing.assert_allclose(chk["perf_score_time"][perf.pitch == 100], [9.25], atol=0.01)  # linear between beats
    # the played notes as written, with the same tempo drift: nothing departs
    clean = NoteArray.from_arrays(_warp(score.notes.onset), _warp(score.notes.onset) + 0.3, score.notes.pitch,
                                  np.full(32, 70))  # fmt: skip
    none = beat_check(clean, score, _warp(score.beat_times), score.beat_times)
    assert not none["missing"].any() and not none["unmatched"].any()


def test_a_flagged_bar_is_confirmed_only_by_the_departures_in_its_own_span() -> None:
    score = _score()
    perf = _performance(score, drop=5, wrong=20, extra_at=9.25)  # bars 1 (note 5), 5 (note 20), 4 (the extra), 0-based
    chk = beat_check(perf, score, _warp(score.beat_times), score.beat_times)
    pitches = score.notes.pitch

    def bar(index: int, **lists: Any) -> BarFeedback:
        start = float(score.bar_times[index])
        return BarFeedback(index, str(index + 1), start, start + 2.0, True, **lists)

    assert confirmed(bar(1, missed=[pitch_name(pitches[5])]), chk, perf, score)
    assert confirmed(bar(5, wrong=[{"expected": pitch_name(pitches[20]), "played": "x"}]), chk, perf, score)
    assert confirmed(bar(4, extra=[pitch_name(100)]), chk, perf, score)
    assert not confirmed(bar(1, missed=[pitch_name(pitches[6])]), chk, perf, score)  # that note was played
    assert not confirmed(bar(3, missed=[pitch_name(pitches[5])]), chk, perf, score)  # the departure is elsewhere
    assert not confirmed(bar(1, missed=[pitch_name(pitches[5])], extra=["C2"]), chk, perf, score)  # all must hold
