from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from piano_data.midi import NoteArray
from piano_data.tiers import load_asap
from piano_symbolic.corpus import CorpusSpec, _percepiano_group, build_corpus, load_window, slice_notes
from symbolic_testing import data_root


def test_slice_notes_shifts_and_clips() -> None:
    notes = NoteArray.from_arrays([0.5, 2.0, 4.0], [1.0, 3.0, 5.0], [60, 62, 64], [70, 70, 70], np.array([[1.5, 4.5]]))
    w = slice_notes(notes, 1.0, 3.5)
    assert w.onset.tolist() == [1.0] and w.offset.tolist() == [2.0]
    assert w.pedal.tolist() == [[0.5, 2.5]]


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
    pieces = {p.piece for p in load_asap(root / "asap")}  # the one ASAP parser and piece key
    assert all(str(w.group).split("@")[0] in pieces for w in windows if w.source == "asap")


def test_percepiano_groups_match_segments(tmp_path: Path) -> None:
    a = tmp_path / "Schubert_D960_mv3_8bars_12_4.mid"
    b = tmp_path / "Schubert_D960_mv3_8bars_3_4.mid"
    assert _percepiano_group(a) == _percepiano_group(b) == "Schubert_D960_mv3_8bars_4"
