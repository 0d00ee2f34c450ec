from __future__ import annotations

import csv
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


def test_align_flags_another_piece(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    score, _ = _score_and_performance(tmp_path)
    rng = np.random.default_rng(9)
    onset = np.sort(rng.uniform(0, 20, 150))
    other = NoteArray.from_arrays(onset, onset + 0.3, rng.integers(30, 100, 150), np.full(150, 60))
    other_path = write_notes(other, tmp_path / "other.mid")
    out = tmp_path / "map.csv"
    assert main(["align", str(other_path), str(score), "--output", str(out)]) == 3
    assert "low_confidence" in capsys.readouterr().err
    assert out.is_file()  # the map is still written, flagged


def test_align_audio_without_piano(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import piano_audio.transcribe
    import soundfile as sf

    score, _ = _score_and_performance(tmp_path)
    wav = tmp_path / "speech.wav"
    sf.write(wav, np.random.default_rng(0).normal(0, 0.1, 24_000).astype(np.float32), 24_000)
    empty = NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), source=str(wav))
    monkeypatch.setattr(piano_audio.transcribe, "transcribe", lambda path: empty)  # what transkun finds: nothing
    out = tmp_path / "m.csv"
    assert main(["align", str(wav), str(score), "--output", str(out)]) == 2
    assert "speech.wav: no piano notes were transcribed" in capsys.readouterr().err
    assert not out.exists()


def test_align_reports_a_restart_and_note_statuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(4)
    onset = np.cumsum(rng.choice([0.25, 0.25, 0.5], size=160))
    pitch = rng.integers(45, 85, size=160)
    score = NoteArray.from_arrays(onset, onset + 0.3, pitch, np.full(160, 64))
    # played up to 20 s, a second's pause, back 4 s and on to the end; one wrong note in the second take
    first, again = onset < 20.0, onset >= 16.0
    perf_on = np.concatenate([onset[first], onset[again] + 5.0])
    perf_pitch = np.concatenate([pitch[first], pitch[again]])
    wrong = int(np.flatnonzero(perf_on > 30.0)[0])
    perf_pitch[wrong] += 1
    perf = NoteArray.from_arrays(perf_on, perf_on + 0.3, perf_pitch, np.full(len(perf_on), 70))
    s_path, p_path = write_notes(score, tmp_path / "s.mid"), write_notes(perf, tmp_path / "p.mid")
    out, notes = tmp_path / "map.csv", tmp_path / "notes.csv"
    assert main(["align", str(p_path), str(s_path), "--output", str(out), "--notes", str(notes)]) == 0
    captured = capsys.readouterr()
    assert "restart: at performance 21.0" in captured.out and "restart" in captured.err
    rows = list(csv.DictReader(notes.open()))
    assert {r["status"] for r in rows} >= {"matched", "substituted", "extra"}
    sub = [r for r in rows if r["status"] == "substituted"]
    assert len(sub) == 1 and int(sub[0]["performance_pitch"]) == int(sub[0]["pitch"]) + 1
    values = np.array(list(csv.reader(out.open()))[1:], dtype=float)
    assert np.all(np.diff(values[:, 0]) > 0) and np.all(np.diff(values[:, 1]) >= 0)
