from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, write_notes
from piano_data.tiers import PieceIndex, load_asap, read_beat_annotations
from piano_data.tiers.asap import asap_performer


def _asap_root(data_root: Path) -> Path:
    root = data_root / "asap"
    if not (root / "metadata.csv").is_file():
        pytest.skip(f"ASAP is absent from {data_root}")
    return root


def test_real_asap_counts(data_root: Path) -> None:
    perfs = load_asap(_asap_root(data_root))
    index = PieceIndex(perfs)
    assert len(perfs) == 902 and len(index) == 193
    assert all(p.midi_path is not None and p.midi_path.is_file() for p in perfs)
    assert sum(p.score_midi_path is not None for p in perfs) == 902
    assert sum(p.annotations_path is not None for p in perfs) == 901  # one annotation file is absent upstream
    assert index.pair_count() == 3801  # pinned: same-piece, different-performer pairs


@pytest.mark.parametrize(
    ("stem", "performer"),
    [
        ("Denisova06M", "denisova"),
        ("LeeSH01M", "leesh"),
        ("LEE_K05M", "lee_k"),
        ("Na_2009_02", "na"),
        ("Bult-ItoS02M", "bult-itos"),
        ("FALIKS01_2004", "faliks"),
        ("WongDoe02_2006", "wongdoe"),
    ],
)
def test_asap_performer(stem: str, performer: str) -> None:
    assert asap_performer(stem) == performer


def _tiny_asap(root: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    cols = columns or [
        "composer",
        "title",
        "folder",
        "midi_performance",
        "midi_score",
        "performance_annotations",
    ]
    with (root / "metadata.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return root


def _midi(path: Path) -> None:
    write_notes(NoteArray.from_arrays(np.array([0.0]), np.array([0.5]), np.array([60]), np.array([70])), path)


def test_missing_midi_is_counted_skip_or_strict_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "Bach").mkdir()
    _midi(tmp_path / "Bach" / "A01.mid")
    rows = [
        {
            "composer": "Bach",
            "title": "Fugue",
            "folder": "Bach",
            "midi_performance": "Bach/A01.mid",
            "midi_score": "",
        },
        {
            "composer": "Bach",
            "title": "Fugue",
            "folder": "Bach",
            "midi_performance": "Bach/B01.mid",
            "midi_score": "",
        },
    ]
    root = _tiny_asap(tmp_path, rows)
    perfs = load_asap(root)
    assert [p.performer for p in perfs] == ["a"] and perfs[0].score_midi_path is None
    assert "skipped 1 row(s): performance MIDI named in metadata.csv not found" in caplog.text
    with pytest.raises(PianoDataError, match=r"B01.mid: performance MIDI"):
        load_asap(root, strict=True)


def test_missing_columns_and_missing_metadata(tmp_path: Path) -> None:
    root = _tiny_asap(tmp_path / "a", [{"composer": "x", "title": "y"}], columns=["composer", "title"])
    with pytest.raises(PianoDataError, match=r"missing column.*folder, midi_performance, midi_score"):
        load_asap(root)
    with pytest.raises(PianoDataError, match=r"metadata.csv not found"):
        load_asap(tmp_path / "nothing")


def test_real_beat_annotations_align_performance_and_score(data_root: Path) -> None:
    root = _asap_root(data_root)
    perf = next(p for p in load_asap(root) if p.annotations_path is not None)
    a = read_beat_annotations(perf.annotations_path)  # type: ignore[arg-type]
    b = read_beat_annotations(perf.score_annotations_path)  # type: ignore[arg-type]
    assert len(a.times) == len(b.times) > 10 and np.all(np.diff(a.times) > 0)
    assert a.downbeat.tolist() == b.downbeat.tolist() and a.downbeat.any()


def test_bad_beat_annotations(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("0.5\t0.5\tdb,4/4\n1.0\t1.0\tb\n")
    ann = read_beat_annotations(tmp_path / "a.txt")
    assert ann.times.tolist() == [0.5, 1.0] and ann.downbeat.tolist() == [True, False]
    (tmp_path / "b.txt").write_text("0.5 db\n")
    with pytest.raises(PianoDataError, match=r"b.txt \(line 1\)"):
        read_beat_annotations(tmp_path / "b.txt")
    with pytest.raises(PianoDataError, match=r"not found"):
        read_beat_annotations(tmp_path / "none.txt")
