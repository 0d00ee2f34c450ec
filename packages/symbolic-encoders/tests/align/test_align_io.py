from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from align_synth import make_score, perform
from piano_symbolic.align import TimeMap, align_notes, write_note_matches_csv, write_time_map_csv


def test_time_map_csv_contract(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    score = make_score(rng)
    perf = perform(score, rng)
    result = align_notes(score, perf.notes)
    out = write_time_map_csv(result.time_map, tmp_path / "map.csv")
    with out.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["score_time", "performance_time"]
    values = np.array(rows[1:], dtype=float)
    assert len(values) == len(result.time_map) > 10
    assert np.all(np.diff(values[:, 0]) > 0) and np.all(np.diff(values[:, 1]) >= 0)
    assert not list(tmp_path.glob(".*.tmp"))


def test_note_matches_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    score = make_score(rng, n_events=30)
    perf = perform(score, rng)
    result = align_notes(score, perf.notes)
    assert result.matches is not None
    out = write_note_matches_csv(result.matches, score, perf.notes, tmp_path / "notes.csv")
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(result.matches)
    labels = {r["label"] for r in rows}
    assert labels <= {"match", "deletion", "insertion"} and "match" in labels
    assert sum(r["label"] != "insertion" for r in rows) == len(score)
    for r in rows:
        if r["label"] == "match":
            assert (
                int(r["pitch"]) == score.pitch[int(r["score_index"])] == perf.notes.pitch[int(r["performance_index"])]
            )


def test_time_map_from_pairs_is_valid() -> None:
    tm = TimeMap.from_pairs(np.array([2.0, 1.0, 1.0, 3.0]), np.array([5.0, 1.0, 3.0, 4.0]))
    np.testing.assert_allclose(tm.score_time, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(tm.performance_time, [2.0, 5.0, 5.0])
    np.testing.assert_allclose(tm(np.array([0.0, 1.5, 4.0])), [2.0 - 1.5, 3.5, 6.5])
    with pytest.raises(ValueError):
        TimeMap(np.array([1.0, 1.0]), np.array([0.0, 1.0]))
