"""Performances that skip part of the score: a cut, and a written-out repeat not taken."""

from __future__ import annotations

import numpy as np
import pytest
from align_synth import make_score, tempo_curve
from piano_data.midi import NoteArray
from piano_symbolic.align import align_notes
from piano_symbolic.align.features import group_onsets
from piano_symbolic.align.repeats import Jump, event_signatures, find_jumps, repeat_run
from piano_symbolic.align.types import TimeMap


def _concat(parts: list[NoteArray]) -> tuple[NoteArray, list[float]]:
    """Parts one after the other (each starts a beat after the previous one ends); returns the start times."""
    on, off, pitch, starts, t = [], [], [], [], 0.0
    for part in parts:
        starts.append(t)
        on.append(part.onset + t)
        off.append(part.offset + t)
        pitch.append(part.pitch)
        t = float(part.onset.max()) + t + 0.5
    o = np.concatenate(on)
    return NoteArray.from_arrays(o, np.concatenate(off), np.concatenate(pitch), np.full(len(o), 64)), starts


def _play(parts: list[NoteArray], rng: np.random.Generator) -> tuple[NoteArray, object]:
    """A performance of the parts in order with a random tempo curve and 10 ms jitter."""
    plain, _ = _concat(parts)
    warp = tempo_curve(rng, float(plain.end_time))
    on = warp(plain.onset) + rng.normal(0.0, 0.01, len(plain))
    return NoteArray.from_arrays(on, warp(plain.offset) + 0.2, plain.pitch, np.full(len(on), 70)), warp


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_skipped_cut_is_a_jump(seed: int) -> None:
    rng = np.random.default_rng(seed)
    intro, cut, rest = (make_score(rng, n) for n in (60, 50, 60))
    score, starts = _concat([intro, cut, rest])
    perf, warp = _play([intro, rest], rng)
    result = align_notes(score, perf)
    assert "skipped_section" in result.flags
    # the music played on both sides of the cut maps where it was played
    for part, start, played_start in ((intro, starts[0], 0.0), (rest, starts[2], starts[1])):
        events = np.unique(part.onset)
        err = np.abs(result.time_map(events + start) - warp(events + played_start))
        assert np.mean(err <= 0.05) >= 0.95
    # the cut takes no more performance time than the pause between the last note before it and the first after
    cut_span = result.time_map(np.array([starts[1], starts[2]]))
    pause = warp(starts[1] + rest.onset.min()) - warp(intro.onset.max())
    assert cut_span[1] - cut_span[0] <= pause + 0.05


def test_repeat_not_taken_jumps_in_the_middle_of_the_repeat() -> None:
    rng = np.random.default_rng(7)
    intro, body, ending1, ending2, coda = (make_score(rng, n) for n in (30, 80, 8, 8, 40))
    score, starts = _concat([intro, body, ending1, body, ending2, coda])
    perf, warp = _play([intro, body, ending2, coda], rng)
    result = align_notes(score, perf)
    assert "skipped_section" in result.flags
    tmap = result.time_map
    # unambiguous music (intro, second ending, coda) maps where it was played
    _, played = _concat([intro, body, ending2, coda])
    for part, start, played_start in ((intro, starts[0], played[0]), (ending2, starts[4], played[2])):
        events = np.unique(part.onset)
        assert np.mean(np.abs(tmap(events + start) - warp(events + played_start)) <= 0.05) >= 0.9
    # the jump: where the map is flat, it spans one repeat (first ending + body) and sits in the middle of the
    # positions the notes allow (anywhere inside the first pass of the body)
    jumps = find_jumps(tmap, group_onsets(score.onset, 0.02))
    assert len(jumps) == 1
    events = group_onsets(score.onset, 0.02).time
    jump_at = events[jumps[0].before]
    middle = starts[1] + 0.5 * float(body.onset.max())
    assert abs(jump_at - middle) < 0.15 * float(body.onset.max())
    skipped = events[jumps[0].after] - events[jumps[0].before]
    assert skipped == pytest.approx(starts[3] - starts[1], abs=1.0)


def test_repeat_run_needs_a_real_repeat() -> None:
    rng = np.random.default_rng(3)
    a, b = make_score(rng, 60), make_score(rng, 60)
    score, _ = _concat([a, b, a])
    events = group_onsets(score.onset, 0.02)
    sig = event_signatures(score, events)
    n_a, n_b = len(np.unique(a.onset)), len(np.unique(b.onset))
    found = repeat_run(sig, Jump(before=10, after=10 + n_a + n_b - 5))  # a jump a few events short
    assert found is not None
    shift, first, last = found
    assert shift == n_a + n_b
    assert first == 0 and last == n_a - 1
    # a jump over music that does not recur is not a repeat
    assert repeat_run(sig, Jump(before=n_a + 5, after=n_a + 35)) is None


def test_find_jumps_ignores_slow_passages() -> None:
    events = group_onsets(np.arange(0.0, 40.0, 0.5), 0.02)
    slow = TimeMap(np.array([0.0, 10.0, 20.0, 40.0]), np.array([0.0, 10.0, 40.0, 60.0]))
    assert find_jumps(slow, events) == []
    skip = TimeMap(np.array([0.0, 10.0, 20.0, 40.0]), np.array([0.0, 10.0, 10.2, 30.0]))
    assert find_jumps(skip, events) == [Jump(20, 40)]
