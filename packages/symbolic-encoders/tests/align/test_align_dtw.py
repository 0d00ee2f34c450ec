from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from piano_data.midi import read_notes
from piano_data.paths import find_data_root
from piano_data.tiers.asap import read_beat_annotations
from piano_symbolic.align import align_notes
from piano_symbolic.align.dtw import dtw, multiscale_dtw


def test_dtw_identity_is_diagonal() -> None:
    x = np.random.default_rng(0).random((50, 8))
    path, cost = dtw(x, x)
    np.testing.assert_array_equal(path[:, 0], path[:, 1])
    assert cost == pytest.approx(0.0, abs=1e-4)


def test_multiscale_matches_full_dtw() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((300, 12)) ** 4
    y = np.repeat(x, 2, axis=0)[::3] + 0.01 * rng.random((200, 12))
    _, c_full = dtw(x, y)
    ms, c_ms = multiscale_dtw(x, y, max_cells=2000, radius=8)
    assert c_ms == pytest.approx(c_full, rel=1e-3)
    assert np.all(np.diff(ms, axis=0) >= 0)


def _asap_piece() -> tuple[Path, Path, Path, Path] | None:
    root = find_data_root(Path(__file__).parent)
    folder = None if root is None else root / "asap" / "Bach" / "Prelude" / "bwv_860"
    if folder is None or not folder.is_dir():
        return None
    perf = sorted(folder.glob("*[!e].mid"))[0]
    return (
        folder / "midi_score.mid",
        perf,
        folder / "midi_score_annotations.txt",
        perf.with_name(perf.stem + "_annotations.txt"),
    )


def test_asap_piece_beats() -> None:
    files = _asap_piece()
    if files is None:
        pytest.skip("ASAP (shared/data/asap) is absent")
    score, perf, s_ann, p_ann = files
    result = align_notes(read_notes(score), read_notes(perf))
    err = result.time_map(read_beat_annotations(s_ann).times) - read_beat_annotations(p_ann).times
    assert np.mean(np.abs(err) <= 0.05) >= 0.95
