from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from align_synth import make_score, perform
from piano_data.errors import PianoDataError
from piano_symbolic.align import TimeMap, align_notes, write_note_matches_csv, write_time_map_csv
from piano_symbolic.align.evaluate import read_beat_annotations, summarize_errors


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


def test_beat_annotations_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "a_annotations.txt"
    path.write_text("0.5\t0.5\tdb,4/4,0\n1.0\t1.0\tb\n1.5\t1.5\tbR\n")
    ann = read_beat_annotations(path)
    np.testing.assert_allclose(ann.time, [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(ann.downbeat, [True, False, False])
    summary = summarize_errors(np.array([0.0, 0.04, -0.2]), ann.downbeat)
    assert summary["beats_within_50ms"] == pytest.approx(2 / 3)
    assert summary["median_ms"] == pytest.approx(40.0)
    assert summary["downbeats_within_30ms"] == 1.0
    (tmp_path / "bad.txt").write_text("x\ty\n")
    with pytest.raises(PianoDataError, match=r"bad\.txt: line 1"):
        read_beat_annotations(tmp_path / "bad.txt")
