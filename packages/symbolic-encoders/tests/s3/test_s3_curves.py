from __future__ import annotations

import numpy as np
from piano_data.midi import NoteArray
from piano_symbolic.s3 import N_CHANNELS, notes_to_curves


def test_curves_known_answer() -> None:
    notes = NoteArray.from_arrays([0.0, 0.5], [1.0, 0.7], [60, 21], [127, 64], np.array([[0.2, 0.4]]))
    c = notes_to_curves(notes, fps=10)
    assert c.shape == (11, N_CHANNELS)
    assert c[:10, 60 - 21].tolist() == [1.0] * 10 and c[10, 60 - 21] == 0.0
    assert c[5:7, 0].tolist() == [1.0, 1.0] and c[7, 0] == 0.0
    assert np.isclose(c[5, 88 + 0], 64 / 127) and np.isclose(c[5, 176 + 0], 64 / 127) and c[6, 176] == 0.0
    assert c[:, -1].nonzero()[0].tolist() == [2, 3]


def test_curves_truncate_and_empty() -> None:
    notes = NoteArray.from_arrays([0.0, 30.0], [1.0, 31.0], [60, 61], [80, 80])
    assert notes_to_curves(notes, fps=10, max_seconds=5).shape[0] == 51
    empty = NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert notes_to_curves(empty, fps=10).shape == (1, N_CHANNELS)
