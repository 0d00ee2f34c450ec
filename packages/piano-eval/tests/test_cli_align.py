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


def _tiny_asap(tmp_path: Path, rows: int) -> None:
    _score_and_performance(tmp_path)
    beats = np.arange(0, 15, 1.0)
    (tmp_path / "s_annotations.txt").write_text(
        "".join(f"{b}\t{b}\t{'db' if i % 4 == 0 else 'b'}\n" for i, b in enumerate(beats))
    )
    perf_beats = 1.0 + 1.3 * beats + 0.1 * np.sin(beats)
    (tmp_path / "p_annotations.txt").write_text("".join(f"{b}\t{b}\tb\n" for b in perf_beats))
    (tmp_path / "metadata.csv").write_text(
        "composer,title,midi_score,midi_performance,midi_score_annotations,performance_annotations\n"
        + "".join(f"X,Y{i},score.mid,perf.mid,s_annotations.txt,p_annotations.txt\n" for i in range(rows))
    )


def test_bench_align_runs_on_a_tiny_asap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tiny_asap(tmp_path, rows=1)
    assert main(["bench-align", "--data-root", str(tmp_path), "--methods", "ours,plain_dtw"]) == 0
    report = json.loads(capsys.readouterr().out)
    ours = report["midi"]["all"]["methods"]["ours"]
    assert ours["pieces"] == 1 and ours["beats_within_50ms"] == 1.0


def test_bench_align_resumes_from_its_pieces_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tiny_asap(tmp_path, rows=3)
    log = tmp_path / "pieces.jsonl"
    args = ["bench-align", "--data-root", str(tmp_path), "--pieces-log", str(log)]
    assert main([*args, "--methods", "ours", "--jobs", "2"]) == 0
    first = json.loads(capsys.readouterr().out)["midi"]["all"]["methods"]["ours"]
    assert len(log.read_text().splitlines()) == 3
    # resuming with one more method runs only that method; the earlier results are reused as they are
    assert main([*args, "--methods", "ours,plain_dtw", "--resume"]) == 0
    report = json.loads(capsys.readouterr().out)["midi"]["all"]["methods"]
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(r["method"] for r in rows) == ["ours"] * 3 + ["plain_dtw"] * 3
    assert report["ours"]["cpu_s_per_piece_mean"] == pytest.approx(first["cpu_s_per_piece_mean"])
    assert report["plain_dtw"]["pieces"] == 3
    # a torn last line (a run killed while writing) is ignored, and what is appended after it stays readable
    log.write_text(log.read_text() + '{"index": 0, "meth')
    assert main([*args, "--methods", "ours,plain_dtw,parangonar", "--resume"]) == 0
    assert json.loads(capsys.readouterr().out)["midi"]["reference_subset"]["pieces"] == 3
    assert sum('"parangonar"' in line for line in log.read_text().splitlines()) == 3


def test_bench_align_resume_needs_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tiny_asap(tmp_path, rows=1)
    assert main(["bench-align", "--data-root", str(tmp_path), "--resume"]) == 2
    assert "--pieces-log" in capsys.readouterr().err


def test_bench_align_writes_markdown_and_sets_squeezed_annotations_apart(tmp_path: Path) -> None:
    _tiny_asap(tmp_path, rows=2)
    # the second performance's annotation squeezes 25 beats into one instant (a skipped repeat)
    beats = np.arange(0, 40, 0.5)
    (tmp_path / "s2_annotations.txt").write_text("".join(f"{b}\t{b}\tb\n" for b in beats))
    squeezed = np.concatenate([beats[:30], np.full(25, 15.0) + np.arange(25) * 1e-3, beats[55:] - 12.5])
    (tmp_path / "p2_annotations.txt").write_text("".join(f"{b}\t{b}\tb\n" for b in squeezed))
    meta = (tmp_path / "metadata.csv").read_text().splitlines()
    meta[2] = "X,Z,score.mid,perf.mid,s2_annotations.txt,p2_annotations.txt"
    (tmp_path / "metadata.csv").write_text("\n".join(meta) + "\n")
    md, out = tmp_path / "tables.md", tmp_path / "report.json"
    args = ["bench-align", "--data-root", str(tmp_path), "--methods", "ours,parangonar", "--markdown", str(md)]
    args += ["--plot", str(tmp_path / "cdf.png")]
    assert main([*args, "--output", str(out)]) == 0
    report = json.loads(out.read_text())["midi"]
    assert report["all"]["pieces"] == 2 and report["all_without_squeezed"]["pieces"] == 1
    assert [Path(p).name for p in report["squeezed_annotations"]] == ["perf.mid"]
    text = md.read_text()
    assert "| MIDI, all evaluated performances | pieces |" in text and "| **ours** | 2 |" in text
    assert "| MIDI, all, without squeezed annotations | pieces |" in text and "| **ours** | 1 |" in text
    assert (tmp_path / "cdf.png").stat().st_size > 1000


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


def test_audio_excerpt_keeps_at_least_four_beats_of_a_slow_opening() -> None:
    from piano_eval.align_bench import excerpt
    from piano_symbolic.align.evaluate import BeatAnnotations

    onset = np.arange(0, 60, 0.5)
    notes = NoteArray.from_arrays(onset, onset + 0.4, np.full(len(onset), 60), np.full(len(onset), 64))
    slow = BeatAnnotations(np.arange(0, 60, 6.0), np.zeros(10, bool))  # 3 beats in the first 15 s
    s, p, s_ann, p_ann = excerpt(notes, notes, slow, slow, 15.0)
    assert len(p_ann) == len(s_ann) == 4 and p.onset.max() < 24.0 and s.onset.max() < 24.0 + 1e-9
    fast = BeatAnnotations(np.arange(0, 60, 1.0), np.zeros(60, bool))
    assert len(excerpt(notes, notes, fast, fast, 15.0)[3]) == 15
