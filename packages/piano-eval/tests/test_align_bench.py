"""The alignment benchmark in ``benchmarks/align_bench`` (not shipped in a wheel; imported from the repository)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from piano_data.midi import NoteArray, write_notes
from piano_data.tiers.asap import BeatAnnotations

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
if not (BENCHMARKS / "align_bench").is_dir():  # pragma: no cover - an installed wheel without the repository
    pytest.skip("benchmarks/align_bench is not in this checkout", allow_module_level=True)
sys.path.insert(0, str(BENCHMARKS))

from align_bench.cli import main as bench  # noqa: E402
from align_bench.core import excerpt  # noqa: E402
from align_bench.perturb import KINDS, perturb, seed_for  # noqa: E402
from align_bench.reference import parangonar_align, plain_dtw_align  # noqa: E402


def _score_and_performance(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    onset = np.repeat(np.arange(60) * 0.25, 2)
    pitch = rng.integers(48, 84, size=len(onset))
    score = NoteArray.from_arrays(onset, onset + 0.4, pitch, np.full(len(onset), 64))
    warped = 1.0 + 1.3 * onset + 0.1 * np.sin(onset)
    perf = NoteArray.from_arrays(warped, warped + 0.5, pitch, np.full(len(onset), 70))
    return write_notes(score, tmp_path / "score.mid"), write_notes(perf, tmp_path / "perf.mid")


@pytest.mark.parametrize("aligner", [plain_dtw_align, parangonar_align])
def test_references_follow_a_warped_performance(aligner, tmp_path: Path) -> None:
    from piano_data.midi import read_notes

    score_path, perf_path = _score_and_performance(tmp_path)
    result = aligner(read_notes(score_path), read_notes(perf_path))
    t = np.unique(read_notes(score_path).onset)
    assert np.median(np.abs(result.time_map(t) - (1.0 + 1.3 * t + 0.1 * np.sin(t)))) < 0.15
    assert result.method in ("plain-dtw", "parangonar")


def _tiny_asap(tmp_path: Path, rows: int) -> None:
    _score_and_performance(tmp_path)
    beats = np.arange(0, 15, 1.0)
    (tmp_path / "s_annotations.txt").write_text(
        "".join(f"{b}\t{b}\t{'db' if i % 4 == 0 else 'b'}\n" for i, b in enumerate(beats))
    )
    perf_beats = 1.0 + 1.3 * beats + 0.1 * np.sin(beats)
    (tmp_path / "p_annotations.txt").write_text("".join(f"{b}\t{b}\tb\n" for b in perf_beats))
    (tmp_path / "metadata.csv").write_text(
        "composer,title,folder,midi_score,midi_performance,midi_score_annotations,performance_annotations\n"
        + "".join(f"X,Y{i},f,score.mid,perf.mid,s_annotations.txt,p_annotations.txt\n" for i in range(rows))
    )


def test_bench_align_runs_on_a_tiny_asap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tiny_asap(tmp_path, rows=1)
    assert bench(["--data-root", str(tmp_path), "--methods", "ours,plain-dtw"]) == 0
    report = json.loads(capsys.readouterr().out)
    ours = report["midi"]["all"]["methods"]["ours"]
    assert ours["pieces"] == 1 and ours["beats_within_50ms"] == 1.0


def test_bench_align_resumes_from_its_pieces_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tiny_asap(tmp_path, rows=3)
    log = tmp_path / "pieces.jsonl"
    args = ["--data-root", str(tmp_path), "--pieces-log", str(log)]
    assert bench([*args, "--methods", "ours", "--jobs", "2"]) == 0
    first = json.loads(capsys.readouterr().out)["midi"]["all"]["methods"]["ours"]
    assert len(log.read_text().splitlines()) == 3
    # resuming with one more method runs only that method; the earlier results are reused as they are
    assert bench([*args, "--methods", "ours,plain-dtw", "--resume"]) == 0
    report = json.loads(capsys.readouterr().out)["midi"]["all"]["methods"]
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(r["method"] for r in rows) == ["ours"] * 3 + ["plain-dtw"] * 3
    assert report["ours"]["cpu_s_per_piece_mean"] == pytest.approx(first["cpu_s_per_piece_mean"])
    assert report["plain-dtw"]["pieces"] == 3
    # a torn last line (a run killed while writing) is ignored, and what is appended after it stays readable
    log.write_text(log.read_text() + '{"index": 0, "meth')
    assert bench([*args, "--methods", "ours,plain-dtw,parangonar", "--resume"]) == 0
    assert json.loads(capsys.readouterr().out)["midi"]["reference_subset"]["pieces"] == 3
    assert sum('"parangonar"' in line for line in log.read_text().splitlines()) == 3


def test_bench_align_resume_needs_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tiny_asap(tmp_path, rows=1)
    assert bench(["--data-root", str(tmp_path), "--resume"]) == 2
    assert "--pieces-log" in capsys.readouterr().err


def test_bench_align_writes_markdown_and_sets_squeezed_annotations_apart(tmp_path: Path) -> None:
    _tiny_asap(tmp_path, rows=2)
    # the second performance's annotation squeezes 25 beats into one instant (a skipped repeat)
    beats = np.arange(0, 40, 0.5)
    (tmp_path / "s2_annotations.txt").write_text("".join(f"{b}\t{b}\tb\n" for b in beats))
    squeezed = np.concatenate([beats[:30], np.full(25, 15.0) + np.arange(25) * 1e-3, beats[55:] - 12.5])
    (tmp_path / "p2_annotations.txt").write_text("".join(f"{b}\t{b}\tb\n" for b in squeezed))
    meta = (tmp_path / "metadata.csv").read_text().splitlines()
    meta[2] = "X,Z,f,score.mid,perf.mid,s2_annotations.txt,p2_annotations.txt"
    (tmp_path / "metadata.csv").write_text("\n".join(meta) + "\n")
    md, out = tmp_path / "tables.md", tmp_path / "report.json"
    args = ["--data-root", str(tmp_path), "--methods", "ours,parangonar", "--markdown", str(md)]
    args += ["--plot", str(tmp_path / "cdf.png")]
    assert bench([*args, "--output", str(out)]) == 0
    report = json.loads(out.read_text())["midi"]
    assert report["all"]["pieces"] == 2 and report["all_without_squeezed"]["pieces"] == 1
    assert [Path(p).name for p in report["squeezed_annotations"]] == ["perf.mid"]
    text = md.read_text()
    assert "| MIDI, all evaluated performances | pieces |" in text and "| **ours** | 2 |" in text
    assert "| MIDI, all, without squeezed annotations | pieces |" in text and "| **ours** | 1 |" in text
    assert (tmp_path / "cdf.png").stat().st_size > 1000


def test_audio_excerpt_keeps_at_least_four_beats_of_a_slow_opening() -> None:
    onset = np.arange(0, 60, 0.5)
    notes = NoteArray.from_arrays(onset, onset + 0.4, np.full(len(onset), 60), np.full(len(onset), 64))
    slow = BeatAnnotations(np.arange(0, 60, 6.0), np.zeros(10, bool), ("b",) * 10)  # 3 beats in the first 15 s
    s, p, s_ann, p_ann = excerpt(notes, notes, slow, slow, 15.0)
    assert len(p_ann.times) == len(s_ann.times) == 4 and p.onset.max() < 24.0 and s.onset.max() < 24.0 + 1e-9
    fast = BeatAnnotations(np.arange(0, 60, 1.0), np.zeros(60, bool), ("b",) * 60)
    assert len(excerpt(notes, notes, fast, fast, 15.0)[3].times) == 15


def test_perturbations_are_seeded_and_move_the_beats() -> None:
    onset = np.arange(0, 60, 0.25)
    notes = NoteArray.from_arrays(onset, onset + 0.2, 60 + (np.arange(len(onset)) * 5) % 24, np.full(len(onset), 64))
    s_beats, p_beats = np.arange(0, 60, 0.5) * 0.8, np.arange(0, 60, 0.5)
    for kind in KINDS:
        a = perturb(notes, s_beats, p_beats, kind, seed_for("x.mid", kind))
        b = perturb(notes, s_beats, p_beats, kind, seed_for("x.mid", kind))
        np.testing.assert_array_equal(a.notes.onset, b.notes.onset)
        np.testing.assert_array_equal(a.notes.pitch, b.notes.pitch)
        assert len(a.perf_beats) == len(a.beat_index)
    assert seed_for("x.mid", "wrong") != seed_for("y.mid", "wrong")
    wrong = perturb(notes, s_beats, p_beats, "wrong", 1)
    moved = np.abs(wrong.notes.pitch.astype(int) - notes.pitch.astype(int))
    assert np.sum(moved > 0) == round(0.1 * len(notes)) and moved.max() <= 2
    assert len(perturb(notes, s_beats, p_beats, "drop", 1).notes) == len(notes) - round(0.15 * len(notes))
    assert len(perturb(notes, s_beats, p_beats, "extra", 1).notes) == len(notes) + round(0.1 * len(notes))
    restart = perturb(notes, s_beats, p_beats, "restart", 1)
    assert len(restart.restarts) == 3 and np.all(np.diff(restart.perf_beats) > 0)  # the take that continues
    for (t_perf, _), r in zip(restart.restarts, restart.restarts[1:], strict=False):
        assert r[0] > t_perf
    replay = restart.restarts[0]
    assert np.any(np.isclose(restart.notes.onset, replay[0])) and 0 < replay[1] < s_beats[-1]
    part = perturb(notes, s_beats, p_beats, "partial", 1)
    assert part.played_span is not None and part.notes.onset.min() == pytest.approx(1.0)
    assert 0.3 * len(p_beats) < len(part.beat_index) < 0.5 * len(p_beats)
    np.testing.assert_allclose(np.diff(part.perf_beats), 0.5)
