from __future__ import annotations

import numpy as np
import pytest
from align_synth import make_score, perform
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray
from piano_symbolic.align import AlignConfig, align_notes
from piano_symbolic.align.features import group_onsets, ioi_features
from piano_symbolic.align.notematch import pitch_rarity

#: The stated tolerance: with 10 ms onset jitter, 95% of score events map within 50 ms of their true time.
TOLERANCE_S = 0.05
SHARE = 0.95


def test_identity_map() -> None:
    score = make_score(np.random.default_rng(1))
    result = align_notes(score, score)
    events = np.unique(score.onset)
    np.testing.assert_allclose(result.time_map(events), events, atol=1e-9)
    assert result.matches is not None and result.matches.n_matched == len(score)
    assert result.confidence == 1.0 and result.flags == ()


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_recovers_tempo_curve_with_edits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    score = make_score(rng)
    perf = perform(score, rng)
    result = align_notes(score, perf.notes)
    events = np.unique(score.onset)
    err = np.abs(result.time_map(events) - perf.warp(events))
    assert np.mean(err <= TOLERANCE_S) >= SHARE, f"only {np.mean(err <= TOLERANCE_S):.2f} within 50 ms"
    assert not result.low_confidence
    assert np.all(np.diff(result.time_map.performance_time) >= 0)


def test_note_matches_are_right() -> None:
    rng = np.random.default_rng(3)
    score = make_score(rng)
    perf = perform(score, rng, p_ornament=0.0, p_insert=0.0, p_delete=0.0, jitter=0.0)
    m = align_notes(score, perf.notes).matches
    assert m is not None
    pairs = np.stack([m.score_index, m.performance_index], 1)[m.matched]
    assert len(pairs) >= 0.98 * len(score)
    assert np.all(score.pitch[pairs[:, 0]] == perf.notes.pitch[pairs[:, 1]])
    np.testing.assert_allclose(perf.warp(score.onset[pairs[:, 0]]), perf.notes.onset[pairs[:, 1]], atol=1e-6)


def test_long_piece_goes_multiscale_in_bounded_memory() -> None:
    rng = np.random.default_rng(5)
    score = make_score(rng, n_events=1500)
    perf = perform(score, rng)
    cfg = AlignConfig(max_cells=40_000)  # forces three coarse-to-fine levels
    result = align_notes(score, perf.notes, cfg)
    events = np.unique(score.onset)
    assert np.mean(np.abs(result.time_map(events) - perf.warp(events)) <= TOLERANCE_S) >= SHARE


def test_different_pieces_are_flagged() -> None:
    a = make_score(np.random.default_rng(10))
    b = make_score(np.random.default_rng(11))
    result = align_notes(a, b)
    assert result.low_confidence and result.confidence < 0.5


def test_performance_much_longer_is_flagged() -> None:
    rng = np.random.default_rng(12)
    score = make_score(rng, n_events=60)
    perf = perform(score, rng, p_insert=0.0, p_ornament=0.0).notes
    shift = perf.end_time + 1.0
    improv = make_score(np.random.default_rng(13), n_events=120)  # an improvisation after the piece
    longer = NoteArray.from_arrays(
        np.concatenate([perf.onset, improv.onset + shift]),
        np.concatenate([perf.offset, improv.offset + shift]),
        np.concatenate([perf.pitch, improv.pitch]),
        np.concatenate([perf.velocity, improv.velocity]),
    )
    assert "performance_longer_than_score" in align_notes(score, longer).flags


def test_empty_input_raises() -> None:
    score = make_score(np.random.default_rng(0))
    empty = NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), source="empty.mid")
    with pytest.raises(PianoDataError, match=r"empty\.mid: performance has no notes"):
        align_notes(score, empty)
    with pytest.raises(PianoDataError, match="score has no notes"):
        align_notes(empty, score)


def test_group_onsets() -> None:
    ev = group_onsets(np.array([0.0, 0.01, 0.5, 0.52, 0.6]), gap=0.03)
    np.testing.assert_array_equal(ev.event, [0, 0, 1, 1, 2])
    np.testing.assert_allclose(ev.time, [0.0, 0.5, 0.6])


def test_ioi_features_see_a_missing_event_not_rubato() -> None:
    steady = ioi_features(np.arange(10) * 0.25)
    slower = ioi_features(np.arange(10) * 0.30, scale=1.2)  # 20% slower, told the tempo: the same
    np.testing.assert_allclose(slower, steady, atol=1e-5)
    dropped = ioi_features(np.delete(np.arange(10) * 0.25, 5))  # a gap doubles where an event is missing
    a, b = steady[4, 12:], dropped[4, 12:]  # the gap to the next event
    assert np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b) < 0.5  # 1.0 for the same gap
    np.testing.assert_allclose(steady[4, :12], dropped[4, :12], atol=1e-6)  # the gap before is unchanged
    assert steady.shape == (10, 24) and not steady[0, :12].any() and not steady[-1, 12:].any()


def test_pitch_rarity_down_weights_repeated_figures() -> None:
    onset = np.array([0.0, 0.1, 0.2, 0.3, 0.0, 2.0])
    pitch = np.array([57, 57, 57, 57, 69, 57])
    w = pitch_rarity(onset, pitch, window=0.5)
    np.testing.assert_allclose(w, [0.25, 0.25, 0.25, 0.25, 1.0, 1.0])
    np.testing.assert_allclose(pitch_rarity(onset, pitch, window=0.0), 1.0)
