"""Restarts found by the DTW that may jump back in the score (jumpdtw.py): the path, its takes, and the restart
patterns the unmatched-run detector (takes.py) used to miss: slow music whose replayed span holds few notes,
three restarts in one performance, and a score that repeats its own music (no spurious restart there)."""

from __future__ import annotations

import numpy as np
from align_synth import make_score
from piano_data.midi import NoteArray
from piano_symbolic.align import align_notes
from piano_symbolic.align.jumpdtw import jump_dtw, path_takes, restart_takes, takes_prediction


def _features(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.random((n, 24)) ** 6).astype(np.float32)


def test_jump_dtw_follows_a_go_back_and_splits_the_takes() -> None:
    rng = np.random.default_rng(1)
    score = _features(rng, 60)
    played = np.concatenate([score[:40], score[25:]])  # stops after event 39, goes back to 25
    path = jump_dtw(played, score, np.full(len(played), 2.0, np.float32))
    takes = path_takes(path)
    assert [(t.first_event, t.score_event) for t in takes] == [(0, 0), (40, 25)]
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [len(played) - 1, 59]
    assert np.all(np.diff(path[:, 0]) >= 0)
    # the same performance without the go-back: one take, the plain diagonal
    straight = jump_dtw(score, score, np.full(len(score), 2.0, np.float32))
    assert len(path_takes(straight)) == 1 and straight.tolist() == [[i, i] for i in range(60)]


def test_restart_takes_rejects_a_jump_into_music_it_does_not_play_on() -> None:
    rng = np.random.default_rng(2)
    score = _features(rng, 60)
    times = np.arange(60) * 0.5
    played = np.concatenate([score[:40], score[25:]])
    p_times = np.arange(len(played)) * 0.5
    path, takes = restart_takes(played, score, p_times, times, slope=1.0)
    assert len(takes) == 2
    pred = takes_prediction(path, takes, p_times, times)
    assert np.allclose(pred[:25], p_times[:25]) and np.allclose(pred[25:], p_times[40:])  # the take that continues
    # the end played again right at the finish: the last take never gets past where the first stopped
    tail = np.concatenate([score, score[50:56]])
    _, takes = restart_takes(tail, score, np.arange(len(tail)) * 0.5, times, slope=1.0)
    assert len(takes) == 1


def _slow_piece(seed: int) -> tuple[NoteArray, np.ndarray]:
    """A slow piece (a chord every 0.6-1.2 s): a 4-second go-back replays only four to six chords."""
    rng = np.random.default_rng(seed)
    score = make_score(rng, n_events=90, step=0.6)
    return score, np.unique(score.onset)


def _with_restarts(score: NoteArray, stops: list[float], back: float, pause: float) -> tuple[NoteArray, list[float]]:
    """The score played at its own tempo, with a restart at each of ``stops`` (going back ``back`` seconds
    after a ``pause``): the notes and the performance time of each new take's first note."""
    on, pitch, starts = [], [], []
    shift, prev = 0.0, -np.inf
    for stop in [*stops, np.inf]:
        sel = (score.onset >= prev) & (score.onset < stop)
        on.append(score.onset[sel] + shift)
        pitch.append(score.pitch[sel])
        if np.isfinite(prev):
            starts.append(float(score.onset[sel].min() + shift))
        if np.isfinite(stop):
            shift += back + pause
            prev = stop - back
    o, p = np.concatenate(on), np.concatenate(pitch)
    order = np.lexsort((p, o))
    return NoteArray.from_arrays(o[order], o[order] + 0.5, p[order], np.full(len(o), 70)), starts


def test_three_restarts_in_slow_music_are_all_found() -> None:
    for seed in range(3):
        score, events = _slow_piece(seed)
        end = float(score.onset.max())
        played, starts = _with_restarts(score, [0.25 * end, 0.5 * end, 0.75 * end], back=4.0, pause=1.0)
        result = align_notes(score, played)
        found = [r.performance_time for r in result.restarts]
        assert len(found) == 3, seed
        assert all(abs(f - s) <= 1.0 for f, s in zip(found, starts, strict=True)), seed
        # the map follows the take that continues: each event at its last performance
        shift = np.zeros(len(events))
        for k, stop in enumerate([0.25 * end, 0.5 * end, 0.75 * end]):
            shift[events >= stop - 4.0] = 5.0 * (k + 1)
        assert np.mean(np.abs(result.time_map(events) - (events + shift)) <= 0.05) >= 0.95, seed


def test_a_score_that_repeats_its_music_gives_no_spurious_restart() -> None:
    rng = np.random.default_rng(5)
    part = make_score(rng, n_events=60)
    gap = float(part.end_time) + 0.5
    a = part.onset
    on = np.concatenate([a, a + gap, a + 2 * gap])  # A A' A'': the same music three times
    pitch = np.concatenate([part.pitch, part.pitch, part.pitch])
    score = NoteArray.from_arrays(on, on + 0.5, pitch, np.full(len(on), 64))
    played = NoteArray.from_arrays(on * 1.1 + 0.5, on * 1.1 + 1.0, pitch, np.full(len(on), 70))
    result = align_notes(score, played)
    assert result.restarts == () and "restart" not in result.flags
    events = np.unique(on)
    assert np.mean(np.abs(result.time_map(events) - (events * 1.1 + 0.5)) <= 0.05) >= 0.95
