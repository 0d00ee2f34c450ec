from __future__ import annotations

from pathlib import Path

import numpy as np
from piano_data.midi import read_notes
from piano_data.splits import make_folds
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus


def test_synthetic_corpus(tmp_path: Path) -> None:
    cfg = SyntheticConfig(works=2, pieces_per_work=1, segments_per_piece=2, players=4)
    segments = make_synthetic_corpus(cfg, tmp_path)
    assert len(segments) == 2 * 1 * 2 * 4
    again = make_synthetic_corpus(cfg, tmp_path)  # cached files, same labels
    np.testing.assert_array_equal(np.stack([s.labels for s in segments]), np.stack([s.labels for s in again]))
    labels = np.stack([s.labels for s in segments])
    assert labels.shape == (16, 19) and labels.min() >= 0 and labels.max() <= 1
    assert labels.std(axis=0).mean() > 0.05  # performances differ
    notes = read_notes(segments[0].midi_path)
    assert len(notes) > 20
    deadpan = [s for s in segments if s.is_deadpan]
    assert deadpan and all(read_notes(s.midi_path).velocity.std() < 15 for s in deadpan)
    for split in ("piece4", "work", "performer", "paper"):
        assert make_folds(segments, split)
