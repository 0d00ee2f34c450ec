from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes, write_notes


def test_empty_corrupt_and_missing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    with pytest.raises(PianoDataError, match="empty"):
        read_notes(empty)
    bad = tmp_path / "bad.mid"
    bad.write_text("this is not midi")
    with pytest.raises(PianoDataError, match=r"bad\.mid: not a readable MIDI file"):
        read_notes(bad)
    with pytest.raises(PianoDataError, match="not found"):
        read_notes(tmp_path / "missing.mid")


def test_no_notes(tmp_path: Path) -> None:
    path = write_notes(NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)), tmp_path / "x.mid")
    with pytest.raises(PianoDataError, match="no piano notes"):
        read_notes(path)
    assert len(read_notes(path, require_notes=False)) == 0


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 20), st.floats(0.01, 3), st.integers(21, 108), st.integers(1, 127)),
        min_size=1,
        max_size=40,
    )
)
def test_write_read_round_trip(tmp_path_factory: pytest.TempPathFactory, notes: list) -> None:
    on, dur, pitch, vel = (np.array(x) for x in zip(*notes, strict=True))
    arr = NoteArray.from_arrays(on, on + dur, pitch, vel, pedal=np.array([[0.5, 1.5]]))
    back = read_notes(write_notes(arr, tmp_path_factory.mktemp("rt") / "n.mid"))
    assert len(back) == len(arr)
    np.testing.assert_allclose(np.sort(back.onset), np.sort(arr.onset), atol=2e-3)
    assert sorted(back.pitch.tolist()) == sorted(arr.pitch.tolist())
    assert sorted(back.velocity.tolist()) == sorted(arr.velocity.tolist())
    np.testing.assert_allclose(back.pedal, [[0.5, 1.5]], atol=2e-3)


def test_real_file(percepiano_root: Path) -> None:
    n = read_notes(percepiano_root / "midi" / "all_2rounds" / "Beethoven_WoO80_thema_8bars_11_1.mid")
    assert len(n) == 64
    assert np.all(np.diff(n.onset) >= 0)
    assert len(n.pedal) > 0
