from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes
from piano_symbolic.tokenizer import RemiTokenizer, TokenizerSpec
from symbolic_testing import percepiano_files

TOK = RemiTokenizer()
GRID = 1 / 24  # 12 positions per beat at 120 qpm


def test_vocabulary_size_is_pinned() -> None:
    assert TOK.vocab_size == 455
    assert TOK.special_ids == (0, 1, 2, 3)
    assert len(RemiTokenizer(TokenizerSpec(positions_per_beat=8)).tokens([4, 5])) == 2


@st.composite
def grid_notes(draw: st.DrawFn) -> NoteArray:
    n = draw(st.integers(1, 24))
    cells = draw(st.lists(st.tuples(st.integers(0, 190), st.integers(21, 108)), min_size=n, max_size=n, unique=True))
    steps = draw(st.lists(st.integers(1, 24), min_size=n, max_size=n))
    vel = draw(st.lists(st.integers(1, 127), min_size=n, max_size=n))
    onset = np.array([c[0] for c in cells]) * GRID
    pedal = None
    if draw(st.booleans()):
        a = draw(st.integers(0, 150))
        pedal = np.array([[a * GRID, (a + draw(st.integers(2, 40))) * GRID]])
    return NoteArray.from_arrays(onset, onset + np.array(steps) * GRID, [c[1] for c in cells], vel, pedal)


@settings(max_examples=25, deadline=None)
@given(grid_notes())
def test_round_trip_keeps_notes_velocities_and_pedal(notes: NoteArray) -> None:
    back = TOK.decode_notes(TOK.encode_notes(notes))
    assert len(back) == len(notes)
    key = lambda a: sorted(zip(np.round(a.onset / GRID).astype(int), a.pitch.tolist(), strict=True))  # noqa: E731
    assert key(back) == key(notes)
    order_a = np.lexsort((notes.pitch, np.round(notes.onset / GRID)))
    order_b = np.lexsort((back.pitch, np.round(back.onset / GRID)))
    bin_width = 128 / TOK.spec.num_velocities
    assert np.all(np.abs(back.velocity[order_b] - notes.velocity[order_a]) <= bin_width)
    assert np.all(np.abs(back.duration[order_b] - notes.duration[order_a]) <= 0.5 * notes.duration[order_a] + 0.13)
    assert len(back.pedal) == len(notes.pedal)
    if len(notes.pedal):
        assert np.allclose(back.pedal, notes.pedal, atol=GRID + 1e-6)


def test_empty_notes_give_bos_eos() -> None:
    empty = NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert TOK.encode_notes(empty) == [TOK.bos_id, TOK.eos_id]


def test_save_load_and_fingerprint(tmp_path) -> None:
    TOK.save(tmp_path)
    again = RemiTokenizer.load(tmp_path)
    assert again.fingerprint() == TOK.fingerprint()
    assert RemiTokenizer(TokenizerSpec(num_velocities=16)).fingerprint() != TOK.fingerprint()


def test_bad_files_raise_one_line_errors(tmp_path) -> None:
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"not a midi file")
    for bad in (empty, junk, tmp_path / "missing.mid"):
        with pytest.raises(PianoDataError) as err:
            TOK.encode_file(bad)
        assert "\n" not in str(err.value) and str(bad) in str(err.value)
    with pytest.raises(PianoDataError):
        RemiTokenizer.load(tmp_path)


@pytest.mark.parametrize("path", percepiano_files(3) or [None])
def test_real_percepiano_files(path) -> None:
    if path is None:
        pytest.skip("shared/data/percepiano not found (set PIANO_EVAL_DATA)")
    notes = read_notes(path)
    ids = TOK.encode_file(path)
    assert ids[0] == TOK.bos_id and ids[-1] == TOK.eos_id
    assert len(TOK.decode_notes(ids)) == len(notes)
    assert TOK.encode_batch([path, notes]) == [ids, ids]
