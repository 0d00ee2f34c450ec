from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from piano_data.midi import NoteArray, write_notes
from piano_eval.cli.main import main


def _score_and_performance(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    onset = np.repeat(np.arange(60) * 0.25, 2)
    pitch = rng.integers(48, 84, size=len(onset))
    score = NoteArray.from_arrays(onset, onset + 0.4, pitch, np.full(len(onset), 64))
    warped = 1.0 + 1.3 * onset + 0.1 * np.sin(onset)
    perf = NoteArray.from_arrays(warped, warped + 0.5, pitch, np.full(len(onset), 70))
    return write_notes(score, tmp_path / "score.mid"), write_notes(perf, tmp_path / "perf.mid")


def test_align_writes_map_and_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    score, perf = _score_and_performance(tmp_path)
    out, notes = tmp_path / "map.csv", tmp_path / "notes.csv"
    assert main(["align", str(perf), str(score), "--output", str(out), "--notes", str(notes)]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["score_time", "performance_time"]
    values = np.array(rows[1:], dtype=float)
    assert np.all(np.diff(values[:, 0]) > 0) and np.all(np.diff(values[:, 1]) >= 0)
    np.testing.assert_allclose(values[:, 1], 1.0 + 1.3 * values[:, 0] + 0.1 * np.sin(values[:, 0]), atol=2e-3)
    assert next(csv.reader(notes.open()))[0] == "label"
    assert "confidence 1.00" in capsys.readouterr().out


def test_align_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    score, _ = _score_and_performance(tmp_path)
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    assert main(["align", str(empty), str(score), "--output", str(tmp_path / "m.csv")]) == 2
    assert "empty.mid" in capsys.readouterr().err
    assert not (tmp_path / "m.csv").exists()
    text = tmp_path / "notes.txt"
    text.write_text("x")
    assert main(["align", str(text), str(score), "--output", str(tmp_path / "m.csv")]) == 2


def test_bench_align_runs_on_a_tiny_asap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _score_and_performance(tmp_path)
    beats = np.arange(0, 15, 1.0)
    (tmp_path / "s_annotations.txt").write_text(
        "".join(f"{b}\t{b}\t{'db' if i % 4 == 0 else 'b'}\n" for i, b in enumerate(beats))
    )
    perf_beats = 1.0 + 1.3 * beats + 0.1 * np.sin(beats)
    (tmp_path / "p_annotations.txt").write_text("".join(f"{b}\t{b}\tb\n" for b in perf_beats))
    (tmp_path / "metadata.csv").write_text(
        "composer,title,midi_score,midi_performance,midi_score_annotations,performance_annotations\n"
        "X,Y,score.mid,perf.mid,s_annotations.txt,p_annotations.txt\n"
    )
    assert main(["bench-align", "--data-root", str(tmp_path), "--methods", "ours,plain_dtw"]) == 0
    report = json.loads(capsys.readouterr().out)
    ours = report["midi"]["all"]["methods"]["ours"]
    assert ours["pieces"] == 1 and ours["beats_within_50ms"] == 1.0
