"""The aligned representation on synthetic warps with known answers, on ASAP, and its cache."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_data.midi import NoteArray, read_notes
from piano_data.paths import find_data_root
from piano_data.score import ScoreData, read_score
from piano_symbolic.aligned import AlignedConfig, align_performance
from piano_symbolic.aligned.build import local_linear_fit, status_arrays

BEAT = 0.5  # score seconds per beat (4/4 at 120 qpm)


def synth_score(seed: int, n_beats: int = 48) -> ScoreData:
    """Eighth-note melody with a bass chord note on every downbeat, random pitches (no pitch repeated within
    four notes so that the answer is unambiguous)."""
    rng = np.random.default_rng(seed)
    onsets, pitches = [], []
    last: list[int] = []
    for k in range(n_beats * 2):
        t = k * BEAT / 2
        p = int(rng.integers(60, 84))
        while p in last:
            p = int(rng.integers(60, 84))
        last = [*last[-3:], p]
        onsets.append(t)
        pitches.append(p)
        if k % 8 == 0:
            onsets.append(t)
            pitches.append(int(rng.integers(36, 52)))
    on = np.array(onsets)
    notes = NoteArray.from_arrays(on, on + BEAT / 2 * 0.9, np.array(pitches), np.full(len(on), 64), source="synth")
    end = n_beats * BEAT
    return ScoreData(
        notes=notes,
        bar_times=np.arange(0.0, end, 4 * BEAT),
        bar_numbers=[str(i + 1) for i in range(n_beats // 4)],
        beat_times=np.arange(0.0, end, BEAT),
        time_signatures=[(0.0, 4, 4)],
        source="synth",
    )


def warp(
    notes: NoteArray, stretch: float, shift: float, seed: int, keep: np.ndarray | None = None
) -> tuple[NoteArray, np.ndarray]:
    """A performance: every score note stretched uniformly, random velocities; returns it and the velocities."""
    rng = np.random.default_rng(seed)
    keep = np.ones(len(notes), dtype=bool) if keep is None else keep
    vel = rng.integers(30, 110, len(notes))
    on = shift + stretch * notes.onset
    off = shift + stretch * notes.offset
    perf = NoteArray.from_arrays(on[keep], off[keep], notes.pitch[keep], vel[keep], source="perf")
    return perf, vel


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), stretch=st.floats(0.7, 1.4), shift=st.floats(0.0, 3.0))
def test_uniform_stretch_gives_zero_deviation(seed: int, stretch: float, shift: float) -> None:
    score = synth_score(seed)
    perf, vel = warp(score.notes, stretch, shift, seed)
    a = align_performance(perf, score, cache=False)
    sn = a.score_notes
    assert np.all(sn.status == "matched") and np.all(a.performed_notes.status == "matched")
    np.testing.assert_allclose(sn.onset_dev_beats, 0.0, atol=1e-6)
    np.testing.assert_allclose(sn.local_tempo, 0.0, atol=1e-6)
    np.testing.assert_allclose(sn.ioi_ratio[np.isfinite(sn.ioi_ratio)], 1.0, atol=1e-6)
    np.testing.assert_allclose(sn.articulation, 1.0, atol=1e-6)
    np.testing.assert_allclose(sn.asynchrony, 0.0, atol=1e-9)
    assert a.mean_tempo == pytest.approx(stretch, rel=1e-6)
    # the performed notes carry the score's bars through the time map
    np.testing.assert_array_equal(a.performed_notes.bar[sn.perf_index], sn.bar)
    # velocity: the matched performed note's own velocity; chord-relative velocities sum to zero per chord
    assert set(np.unique(sn.velocity)) <= set(vel.astype(float))
    np.testing.assert_allclose(np.bincount(sn.chord, weights=sn.velocity_chord), 0.0, atol=1e-9)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), delay=st.floats(0.15, 0.35), stretch=st.floats(0.8, 1.25))
def test_delayed_note_gives_its_delay_in_beats(seed: int, delay: float, stretch: float) -> None:
    score = synth_score(seed)
    perf, _ = warp(score.notes, stretch, 0.5, seed)
    # a single-note chord in the middle: the note after the downbeat of bar 6
    target = int(np.flatnonzero(np.isclose(score.notes.onset, 20 * BEAT + BEAT / 2))[0])
    pitch, onset = score.notes.pitch[target], 0.5 + stretch * score.notes.onset[target]
    k = int(np.flatnonzero((perf.pitch == pitch) & np.isclose(perf.onset, onset))[0])
    on = perf.onset.copy()
    on[k] += delay * BEAT * stretch
    late = NoteArray.from_arrays(on, perf.offset + (on - perf.onset), perf.pitch, perf.velocity)
    sn = align_performance(late, score, cache=False).score_notes
    assert np.all(sn.status == "matched")
    assert sn.onset_dev_beats[target] == pytest.approx(delay, abs=1e-6)
    others = np.arange(len(sn)) != target
    np.testing.assert_allclose(sn.onset_dev_beats[others], 0.0, atol=1e-6)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), which=st.integers(10, 80))
def test_dropped_note_is_missed_and_added_note_is_extra(seed: int, which: int) -> None:
    score = synth_score(seed)
    keep = np.ones(len(score.notes), dtype=bool)
    keep[which] = False
    perf, _ = warp(score.notes, 1.1, 0.2, seed, keep)
    # an extra note far from any score pitch, between two score onsets
    extra_t = 0.2 + 1.1 * (score.notes.onset[40] + BEAT / 8)
    played = NoteArray.from_arrays(
        np.append(perf.onset, extra_t),
        np.append(perf.offset, extra_t + 0.1),
        np.append(perf.pitch, 100),
        np.append(perf.velocity, 70),
    )
    a = align_performance(played, score, cache=False)
    sn, pn = a.score_notes, a.performed_notes
    assert sn.status[which] == "missed" and sn.perf_index[which] == -1 and np.isnan(sn.onset_dev_beats[which])
    assert np.all(sn.status[np.arange(len(sn)) != which] == "matched")
    extra = np.flatnonzero(pn.status == "extra")
    assert len(extra) == 1 and pn.pitch[extra[0]] == 100 and pn.score_index[extra[0]] == -1
    assert a.n_missed == 1 and a.n_extra == 1
    np.testing.assert_allclose(sn.onset_dev_beats[sn.matched], 0.0, atol=1e-6)


def test_substitutions_are_read_when_the_aligner_gives_them() -> None:
    matches = SimpleNamespace(
        score_index=np.array([0, 1, 2, -1]),
        performance_index=np.array([0, 2, -1, 1]),
        substituted=np.array([False, True, False, False]),
    )
    status, perf_index, score_index = status_arrays(SimpleNamespace(matches=matches), 3, 3)  # type: ignore[arg-type]
    assert list(status) == ["matched", "substituted", "missed"]
    assert list(perf_index) == [0, 2, -1] and list(score_index) == [0, -1, 1]


def test_local_linear_fit_leave_one_out_and_widening() -> None:
    x = np.arange(10.0)
    y = 2.0 * x + 1.0
    y[5] += 3.0
    a, b = local_linear_fit(x, y, np.ones(10), x, np.full(10, 1.0), np.arange(10))
    # point 5 is predicted from 4 and 6 only (leave-one-out): on the line
    assert a[5] + b[5] * 5 == pytest.approx(11.0)
    # end points have one neighbour within 1.0: the window doubles
    assert np.all(np.isfinite(b)) and np.all(b > 0)


def test_cache_round_trip_and_corrupt_entry(tmp_path: Path) -> None:
    score = synth_score(3)
    perf, _ = warp(score.notes, 1.2, 0.0, 3)
    first = align_performance(perf, score, cache=tmp_path)
    entries = sorted(tmp_path.rglob("*.json"))
    assert len(entries) == 1 and json.loads(entries[0].read_text())["version"] >= 1
    assert not list(tmp_path.rglob("*.tmp"))
    second = align_performance(perf, score, cache=tmp_path)
    for name in ("status", "onset_dev_beats", "velocity", "bar", "perf_index"):
        np.testing.assert_array_equal(getattr(first.score_notes, name), getattr(second.score_notes, name))
    np.testing.assert_array_equal(first.alignment.time_map.score_time, second.alignment.time_map.score_time)
    assert second.alignment.confidence == first.alignment.confidence
    # another config is another entry
    align_performance(perf, score, AlignedConfig(tempo_window=4.0), cache=tmp_path)
    assert len(list(tmp_path.rglob("*.json"))) == 2
    # a corrupt array file is a miss, recomputed and rewritten
    npz = entries[0].with_suffix(".npz")
    npz.write_bytes(b"garbage")
    third = align_performance(perf, score, cache=tmp_path)
    np.testing.assert_array_equal(third.score_notes.status, first.score_notes.status)
    with np.load(npz, allow_pickle=False) as data:
        assert "s_status" in data.files


ASAP_PIECES = [("Bach/Fugue/bwv_848", "Denisova06M"), ("Beethoven/Piano_Sonatas/21-1_no_repeat", "ZhangW01M")]


@pytest.mark.parametrize(("folder", "player"), ASAP_PIECES)
def test_asap_whole_piece(folder: str, player: str | None, tmp_path: Path) -> None:
    root = find_data_root(Path(__file__).parent)
    piece = None if root is None else root / "asap" / folder
    if piece is None or not (piece / "midi_score.mid").is_file():
        pytest.skip(f"ASAP {folder} is absent")
    perfs = sorted(p for p in piece.glob("*.mid") if p.name != "midi_score.mid")
    perfs = [p for p in perfs if player is None or p.stem == player][:1]
    if not perfs:
        pytest.skip(f"no ASAP performance of {folder}")
    score = read_score(piece / "midi_score.mid")
    a = align_performance(read_notes(perfs[0]), score, cache=tmp_path)
    sn, pn = a.score_notes, a.performed_notes
    assert a.n_matched / len(sn) > 0.9
    # a clean professional performance: deviations after the local tempo are a small part of a beat
    assert float(np.median(np.abs(sn.onset_dev_beats[sn.matched]))) < 0.1
    assert 0.5 < a.mean_tempo < 2.0 and float(np.nanstd(sn.local_tempo)) < 0.3
    # the time map puts matched performed notes next to their score notes (within half a beat, nearly always)
    m = pn.score_index >= 0
    beats = np.abs(score.beat_position(pn.score_time[m]) - sn.beat[pn.score_index[m]])
    assert (beats < 0.5).mean() > 0.95
    assert np.all(pn.bar[m] == sn.bar[pn.score_index[m]])
    assert a.bar_numbers[0] == "1" and sn.bar.max() < len(a.bar_numbers)
