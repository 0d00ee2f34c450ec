"""How students play: wrong, dropped and extra notes, restarts and practice excerpts, each on a short synthetic
piece with a known answer (the tempo curve, which notes were changed, where the restart is, what was played)."""

from __future__ import annotations

import numpy as np
import pytest
from align_synth import make_score, tempo_curve
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_data.midi import NoteArray
from piano_symbolic.align import Alignment, NoteMatches, Restart, align_notes
from piano_symbolic.align.dtw import subsequence_dtw
from piano_symbolic.align.notematch import displaced_anchors
from piano_symbolic.align.takes import restart_points, unmatched_runs


def _play(seed: int, n_events: int = 160) -> tuple[NoteArray, NoteArray, object, np.random.Generator, np.ndarray]:
    """A score and its performance (a random tempo curve, 10 ms jitter, no edits), and for each performed note
    the index of the score note it plays."""
    rng = np.random.default_rng(seed)
    score = make_score(rng, n_events=n_events)
    warp = tempo_curve(rng, float(score.end_time), lo=0.8, hi=1.3)
    on = warp(score.onset) + rng.normal(0, 0.01, len(score))
    owner = np.lexsort((score.pitch, on))
    perf = NoteArray.from_arrays(on[owner], on[owner] + 0.3, score.pitch[owner], np.full(len(score), 70))
    return score, perf, warp, rng, owner


def _notes(on: np.ndarray, pitch: np.ndarray) -> NoteArray:
    order = np.lexsort((pitch, on))
    return NoteArray.from_arrays(on[order], on[order] + 0.3, pitch[order], np.full(len(on), 70))


def _every_note_once(result: Alignment, n_score: int, n_perf: int) -> NoteMatches:
    m = result.matches
    assert m is not None
    s, p = m.score_index[m.score_index >= 0], m.performance_index[m.performance_index >= 0]
    assert sorted(s.tolist()) == list(range(n_score)) and sorted(p.tolist()) == list(range(n_perf))
    return m


def _share_within(result: Alignment, times: np.ndarray, truth: np.ndarray, tol: float = 0.05) -> float:
    return float(np.mean(np.abs(result.time_map(times) - truth) <= tol))


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_wrong_notes_are_substitutions(seed: int) -> None:
    score, perf, warp, rng, owner = _play(seed)
    pitch = perf.pitch.astype(np.int64).copy()
    wrong = rng.choice(len(pitch), size=len(pitch) // 10, replace=False)
    pitch[wrong] += rng.choice([-2, -1, 1, 2], size=len(wrong))
    played = NoteArray.from_arrays(perf.onset, perf.offset, pitch, perf.velocity)  # onsets distinct: same order
    result = align_notes(score, played)
    m = _every_note_once(result, len(score), len(played))
    labels = dict(zip(m.score_index.tolist(), m.labels.tolist(), strict=True))
    assert np.mean([labels[i] == "substitution" for i in owner[wrong]]) >= 0.9
    sub = m.substituted if m.substituted is not None else np.zeros(len(m), bool)
    # a wrong note is paired with its own score note (in a chord a neighbour one semitone away may take its place)
    assert np.mean(owner[m.performance_index[sub]] == m.score_index[sub]) >= 0.9
    assert m.n_matched >= len(score) - len(wrong) - 2
    events = np.unique(score.onset)
    assert _share_within(result, events, warp(events)) >= 0.95
    assert result.restarts == () and result.played_span is None and not result.low_confidence


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_dropped_notes_are_missed(seed: int) -> None:
    score, perf, warp, rng, owner = _play(seed)
    keep = np.ones(len(perf), dtype=bool)
    dropped = rng.choice(len(perf), size=int(0.15 * len(perf)), replace=False)
    keep[dropped] = False
    played = NoteArray.from_arrays(perf.onset[keep], perf.offset[keep], perf.pitch[keep], perf.velocity[keep])
    result = align_notes(score, played)
    m = _every_note_once(result, len(score), len(played))
    missed = set(m.score_index[m.performance_index < 0].tolist())
    assert np.mean([i in missed for i in owner[dropped]]) >= 0.9
    events = np.unique(score.onset)
    assert _share_within(result, events, warp(events)) >= 0.95


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_extra_notes_are_insertions(seed: int) -> None:
    score, perf, warp, rng, _ = _play(seed)
    k = len(perf) // 10
    src = rng.integers(0, len(perf), size=k)
    extra_on = perf.onset[src] + rng.uniform(-0.3, 0.3, size=k)
    extra_pitch = perf.pitch[src].astype(np.int64) + rng.choice([-7, -5, -3, 3, 5, 7], size=k)
    played = _notes(np.concatenate([perf.onset, extra_on]), np.concatenate([perf.pitch, extra_pitch]))
    result = align_notes(score, played)
    m = _every_note_once(result, len(score), len(played))
    assert m.n_extra >= 0.8 * k and m.n_matched >= 0.95 * len(score)
    events = np.unique(score.onset)
    assert _share_within(result, events, warp(events)) >= 0.95


def _restart(perf: NoteArray, stop: float, back: float, pause: float) -> tuple[NoteArray, float, float]:
    """The player stops at ``stop``, pauses, goes back ``back`` seconds and plays on: the new notes, the shift
    of the take that continues and the performance time of its first note."""
    first = perf.onset < stop
    again = perf.onset >= stop - back
    shift = back + pause
    on = np.concatenate([perf.onset[first], perf.onset[again] + shift])
    pitch = np.concatenate([perf.pitch[first], perf.pitch[again]])
    return _notes(on, pitch), shift, float(perf.onset[again].min() + shift)


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_restart_is_found_and_the_map_follows_the_take_that_continues(seed: int) -> None:
    score, perf, warp, _, _ = _play(seed)
    stop = float(perf.onset[len(perf) // 2])
    played, shift, restart_at = _restart(perf, stop, back=4.0, pause=1.0)
    result = align_notes(score, played)
    assert "restart" in result.flags and len(result.restarts) == 1
    r = result.restarts[0]
    assert isinstance(r, Restart) and abs(r.performance_time - restart_at) <= 1.0
    back_to = float(score.onset[np.argmin(np.abs(perf.onset - (stop - 4.0)))])
    assert abs(r.score_time - back_to) <= 1.0
    events = np.unique(score.onset)
    truth = warp(events) + np.where(warp(events) >= stop - 4.0, shift, 0.0)  # the replayed span: the later take
    assert _share_within(result, events, truth) >= 0.95
    assert np.all(np.diff(result.time_map.performance_time) >= 0) and np.all(np.diff(result.time_map.score_time) > 0)
    _every_note_once(result, len(score), len(played))


def test_clean_performance_has_no_restart_and_no_partial() -> None:
    score, perf, _, _, _ = _play(3)
    result = align_notes(score, perf)
    assert result.restarts == () and result.played_span is None
    assert "restart" not in result.flags and "partial" not in result.flags


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000), start=st.floats(0.2, 0.4))
def test_practice_excerpt_maps_the_played_span(seed: int, start: float) -> None:
    score, perf, warp, _, owner = _play(seed, n_events=200)
    lo, hi = np.quantile(perf.onset, [start, start + 0.4])
    keep = (perf.onset >= lo) & (perf.onset < hi)
    played = NoteArray.from_arrays(
        perf.onset[keep] - lo + 1.0, perf.offset[keep] - lo + 1.0, perf.pitch[keep], perf.velocity[keep]
    )
    result = align_notes(score, played)
    assert "partial" in result.flags and not result.low_confidence and result.confidence >= 0.9
    assert result.played_span is not None
    true_span = (score.onset[owner[keep]].min(), score.onset[owner[keep]].max())
    assert abs(result.played_span[0] - true_span[0]) <= 0.5 and abs(result.played_span[1] - true_span[1]) <= 0.5
    inside = np.unique(score.onset[owner[keep]])
    assert _share_within(result, inside, warp(inside) - lo + 1.0) >= 0.95
    anchors = result.time_map.score_time
    assert anchors.min() >= true_span[0] - 0.5 and anchors.max() <= true_span[1] + 0.5  # only the span is mapped


def _student(seed: int) -> tuple[NoteArray, NoteArray, np.ndarray, np.ndarray, float]:
    """5% wrong, 5% dropped, 5% extra notes and one restart: score, performance, score events, their true
    times (the replayed span on the take that continues) and the restart time."""
    score, perf, warp, rng, _ = _play(seed, n_events=200)
    stop = float(perf.onset[len(perf) // 2])
    played, shift, restart_at = _restart(perf, stop, back=4.0, pause=1.0)
    pitch = played.pitch.astype(np.int64).copy()
    n = len(pitch)
    pitch[rng.choice(n, size=n // 20, replace=False)] += 1
    keep = np.ones(n, bool)
    keep[rng.choice(n, size=n // 20, replace=False)] = False
    src = rng.integers(0, n, size=n // 20)
    on = np.concatenate([played.onset[keep], played.onset[src] + rng.uniform(-0.3, 0.3, len(src))])
    final = _notes(on, np.concatenate([pitch[keep], pitch[src] + 4]))
    events = np.unique(score.onset)
    return score, final, events, warp(events) + np.where(warp(events) >= stop - 4.0, shift, 0.0), restart_at


def test_student_mix_wrong_dropped_extra_and_a_restart() -> None:
    """Eight seeded students: the map follows the take that continues on every one, the restart is found on
    at least six (the recall measured on ASAP is below 100%, see benchmarks/alignment.md), never a spurious one."""
    found = 0
    for seed in range(8):
        score, final, events, truth, restart_at = _student(seed)
        result = align_notes(score, final)
        assert _share_within(result, events, truth) >= 0.9, seed
        assert all(abs(r.performance_time - restart_at) <= 1.0 for r in result.restarts), seed
        found += len(result.restarts) == 1
        m = _every_note_once(result, len(score), len(final))
        assert m.n_substituted > 0 and m.n_missed > 0 and m.n_extra > 0
    assert found >= 6


def test_note_matches_labels_and_substitutions() -> None:
    m = NoteMatches.from_pairs(np.array([[0, 0], [2, 3]]), 4, 5, substitutions=np.array([[1, 2]]))
    assert sorted(m.labels.tolist()) == ["deletion", "insertion", "insertion", "match", "match", "substitution"]
    assert m.n_matched == 2 and m.n_substituted == 1 and m.n_missed == 1 and m.n_extra == 2
    assert m.matched.sum() == 2
    plain = NoteMatches.from_pairs(np.array([[0, 0]]), 1, 1)
    assert plain.substituted is None and plain.n_substituted == 0 and plain.labels.tolist() == ["match"]
    with pytest.raises(ValueError, match="substitution row"):
        NoteMatches(np.array([0, -1]), np.array([-1, 0]), np.array([True, False]))


def test_restart_points_and_unmatched_runs() -> None:
    onset = np.arange(40) * 0.25
    pos = np.concatenate([np.arange(20) * 0.25, 2.0 + np.arange(20) * 0.25])  # back from 4.75 to 2.0 at 5.0 s
    found = restart_points(onset, pos, min_back=1.0)
    assert found == [Restart(5.0, 2.0)]
    assert restart_points(onset, np.arange(40) * 0.25) == []
    matched = np.ones(40, bool)
    matched[10:18] = False
    matched[13] = True  # one matched note inside a run is bridged
    runs = unmatched_runs(onset, matched, min_notes=5)
    assert len(runs) == 1 and runs[0].tolist() == [10, 11, 12, 14, 15, 16, 17]


def test_subsequence_dtw_finds_the_query_inside() -> None:
    rng = np.random.default_rng(0)
    ref = rng.random((80, 12)) ** 4
    path, cost = subsequence_dtw(ref[30:45], ref)
    assert path[0].tolist() == [30, 0] and path[-1].tolist() == [44, 14] and cost < 1e-3


def test_displaced_anchor_is_found_and_a_fermata_is_not() -> None:
    s = np.arange(12) * 0.5
    p = 10.0 + 1.1 * s
    shifted = p.copy()
    shifted[6] -= 0.5  # matched to the same pitch a beat earlier: fast into it, slow out of it
    assert displaced_anchors(s, shifted, 0.15, 1.5).tolist() == [k == 6 for k in range(12)]
    fermata = p.copy()
    fermata[7:] += 2.0  # a long hold on event 6: only the segment after it is slow
    assert not displaced_anchors(s, fermata, 0.15, 1.5).any()
    assert not displaced_anchors(s, p, 0.15, 1.5).any()
