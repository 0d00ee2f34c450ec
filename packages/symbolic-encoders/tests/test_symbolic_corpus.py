from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from piano_data.midi import NoteArray
from piano_symbolic.corpus import CorpusSpec, build_corpus, group_batches, load_window, slice_notes
from symbolic_testing import data_root


def test_slice_notes_shifts_and_clips() -> None:
    notes = NoteArray.from_arrays([0.5, 2.0, 4.0], [1.0, 3.0, 5.0], [60, 62, 64], [70, 70, 70], np.array([[1.5, 4.5]]))
    w = slice_notes(notes, 1.0, 3.5)
    assert w.onset.tolist() == [1.0] and w.offset.tolist() == [2.0]
    assert w.pedal.tolist() == [[0.5, 2.5]]


def test_group_batches_pairs_and_covers() -> None:
    groups = ["a", "a", "b", "b", "b", None, None, "c"]
    batches = group_batches(groups, 4)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(groups)))
    first = [groups[i] for i in batches[0]]
    assert first[0] == first[1] and first[0] is not None


def test_real_corpus() -> None:
    root = data_root()
    if root is None:
        pytest.skip("shared/data not found (set PIANO_EVAL_DATA)")
    spec = CorpusSpec(sources=("asap", "maestro"), max_files=2, max_windows_per_file=3)
    windows = build_corpus(root, spec)
    assert 0 < len(windows) <= 4 * 3
    assert Counter(w.source for w in windows).keys() <= {"asap", "maestro"}
    notes = load_window(windows[0])
    assert len(notes) >= spec.min_notes and notes.onset.min() >= 0 and notes.onset.max() < spec.window_s
