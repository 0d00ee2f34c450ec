"""Difficulty data: Mikrokosmos (real files, skipped when absent), PSyllabus matching on a tiny fixture."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from piano_data.difficulty import (
    DEFAULT_QPM,
    DifficultyItem,
    item_notes,
    load_mikrokosmos,
    load_psyllabus,
    load_psyllabus_grades,
    mikrokosmos_splits,
    musicxml_notes,
    normalise_key,
    random_splits,
    restrict_splits,
)
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, write_notes


@pytest.fixture(scope="session")
def mikrokosmos_root(data_root: Path) -> Path:
    root = data_root / "mikrokosmos_difficulty"
    if not root.is_dir():
        pytest.skip(f"mikrokosmos_difficulty is absent from {data_root}")
    return root


# --- Mikrokosmos (real files) -------------------------------------------------------------------------------
def test_mikrokosmos_items_match_the_upstream_counts(mikrokosmos_root: Path) -> None:
    items = load_mikrokosmos(mikrokosmos_root)
    assert len(items) == 147
    assert Counter(i.label_3class for i in items) == {0: 62, 1: 54, 2: 31}  # the upstream README's table
    assert {i.henle for i in items} == set(range(1, 9))
    assert [i.key for i in items][:3] == ["1", "2", "3"] and "43" not in {i.key for i in items}  # 4-hands out
    assert all(i.score_path is not None and i.score_path.is_file() and i.notes_path is None for i in items)
    first = items[0]
    assert (first.henle, first.label_3class, first.extra["work"]) == (1, 0, "Six Unison Melodies, no. 1")
    assert first.target("henle") == 1.0 and first.target("3class") == 0.0
    with pytest.raises(ValueError, match="no 'grade' label"):
        first.target("grade")


def test_mikrokosmos_splits_are_the_shipped_fifty(mikrokosmos_root: Path) -> None:
    splits = mikrokosmos_splits(mikrokosmos_root)
    keys = {i.key for i in load_mikrokosmos(mikrokosmos_root)}
    assert len(splits) == 50
    for train, test in splits:
        assert (len(train), len(test)) == (117, 30)
        assert not set(train) & set(test) and set(train) | set(test) == keys
    assert splits[0][1][:3] == ["1", "84", "104"]  # split "0" of splits.json, order kept
    assert len({tuple(sorted(t)) for _, t in splits}) == 50


@pytest.mark.parametrize("piece", ["1", "38", "148"])
def test_musicxml_notes_of_real_scores(mikrokosmos_root: Path, piece: str) -> None:
    notes = musicxml_notes(mikrokosmos_root / "musicxml" / f"{piece}.xml")
    assert len(notes) > 20 and notes.onset.min() == 0.0
    assert np.all(np.diff(notes.onset) >= 0) and np.all(notes.duration > 0)
    assert np.all((notes.pitch >= 21) & (notes.pitch <= 108)) and set(notes.velocity.tolist()) == {64}
    # onsets are whole multiples of a small note value at 120 qpm (0.5 s per quarter)
    quarters = notes.onset * DEFAULT_QPM / 60.0
    assert np.allclose(quarters * 12, np.round(quarters * 12), atol=1e-4)


def test_musicxml_tempo_scales_time(mikrokosmos_root: Path) -> None:
    path = mikrokosmos_root / "musicxml" / "1.xml"
    slow, fast = musicxml_notes(path, qpm=60.0), musicxml_notes(path, qpm=120.0)
    assert np.allclose(slow.onset, 2 * fast.onset)
    # piece 1 is 28 quarters of written notes plus its last note
    assert fast.onset.max() == pytest.approx(28 * 0.5)


def test_musicxml_bad_input(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match="not found"):
        musicxml_notes(tmp_path / "missing.xml")
    (tmp_path / "empty.xml").write_bytes(b"")
    with pytest.raises(PianoDataError, match="empty"):
        musicxml_notes(tmp_path / "empty.xml")
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?><score-partwise><part-list></part-list>')
    with pytest.raises(PianoDataError, match=r"bad\.xml: not a readable MusicXML score"):
        musicxml_notes(bad)


def test_mikrokosmos_bad_folder(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match="folder not found"):
        load_mikrokosmos(tmp_path / "nope")
    with pytest.raises(PianoDataError, match=r"books_mikrokosmos\.json: file not found"):
        load_mikrokosmos(tmp_path)
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "books_mikrokosmos.json").write_text('{"x/musicxml/1.xml": 0}')
    (tmp_path / "metadata" / "henle_mikrokosmos.json").write_text('{"1": 1}')
    with pytest.raises(PianoDataError, match=r"1\.xml: MusicXML score of a labelled piece not found"):
        load_mikrokosmos(tmp_path)
    (tmp_path / "splits.json").write_text(
        '{"0": {"ids_train": ["x/musicxml/1.xml"], "ids_test": ["x/musicxml/1.xml"], "y_train": [0], "y_test": [0]}}'
    )
    with pytest.raises(PianoDataError, match="share pieces"):
        mikrokosmos_splits(tmp_path)


# --- PSyllabus (tiny synthetic fixture) ---------------------------------------------------------------------
def _midi(path: Path, n: int = 8) -> Path:
    on = np.arange(n) * 0.25
    return write_notes(NoteArray.from_arrays(on, on + 0.2, 60 + np.arange(n) % 12, np.full(n, 70)), path)


@pytest.fixture()
def psyllabus_fixture(tmp_path: Path) -> tuple[Path, Path]:
    csv_path = tmp_path / "grades.csv"
    csv_path.write_text(
        "piece_key,grade_0_10\n"
        "Bartók B.Allegro no. 3,4\n"
        "Abram J.If you too are going,10\n"
        "Adair Y.The little mermaid,0\n"
        "Czerny C.Etude Op 599 No 1,2\n",
        encoding="utf-8",
    )
    midi = tmp_path / "midi"
    _midi(midi / "bartok b allegro no 3.mid")  # accents, case and punctuation ignored
    _midi(midi / "sub" / "Abram J.If you too are going.MIDI")  # recursive, suffix case ignored
    _midi(midi / "Adair Y.The little mermaid.mid")
    _midi(midi / "Somebody Else.mid")  # no key: ignored
    (midi / "notes.txt").write_text("not MIDI")
    return csv_path, midi


def test_psyllabus_matches_files_to_keys(psyllabus_fixture: tuple[Path, Path]) -> None:
    csv_path, midi = psyllabus_fixture
    items = load_psyllabus(csv_path, midi)
    assert [(i.key, i.grade) for i in items] == [
        ("Abram J.If you too are going", 10.0),
        ("Adair Y.The little mermaid", 0.0),
        ("Bartók B.Allegro no. 3", 4.0),
    ]
    assert all(i.source == "psyllabus" and i.score_path is None and i.label_3class is None for i in items)
    assert items[2].extra["file_stem"] == "bartok b allegro no 3"
    notes = item_notes(items[0])
    assert len(notes) == 8 and notes.onset[1] == pytest.approx(0.25, abs=1e-3)
    assert items[0].target("grade") == 10.0


def test_psyllabus_bad_input(psyllabus_fixture: tuple[Path, Path], tmp_path: Path) -> None:
    csv_path, midi = psyllabus_fixture
    with pytest.raises(PianoDataError, match="MIDI folder not found"):
        load_psyllabus(csv_path, tmp_path / "nowhere")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(PianoDataError, match="no MIDI file named after a PSyllabus piece_key"):
        load_psyllabus(csv_path, tmp_path / "empty_dir")
    _midi(midi / "ADAIR Y. The Little Mermaid.midi")
    with pytest.raises(PianoDataError, match="already matched by"):
        load_psyllabus(csv_path, midi)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("key,grade\nA,1\n")
    with pytest.raises(PianoDataError, match="expected columns piece_key, grade_0_10"):
        load_psyllabus_grades(wrong)
    nan = tmp_path / "nan.csv"
    nan.write_text("piece_key,grade_0_10\nA,hard\n")
    with pytest.raises(PianoDataError, match="line 2: grade 'hard' is not a number"):
        load_psyllabus_grades(nan)
    with pytest.raises(PianoDataError, match="grades CSV not found"):
        load_psyllabus_grades(tmp_path / "none.csv")


def test_real_psyllabus_grades_csv(data_root: Path) -> None:
    path = data_root / "psyllabus_labels" / "psyllabus_grades_from_cache.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    grades = load_psyllabus_grades(path)
    assert len(grades) == 5334 and set(grades.values()) == set(map(float, range(11)))
    assert grades["Abram J.If you too are going"] == 10.0
    assert len({normalise_key(k) for k in grades}) == 5334  # the matching rule keeps every key distinct


def test_item_without_files() -> None:
    with pytest.raises(PianoDataError, match="neither a MIDI file nor a score"):
        item_notes(DifficultyItem("x", None))


# --- splits -------------------------------------------------------------------------------------------------
def test_random_and_restricted_splits() -> None:
    keys = [str(i) for i in range(10)]
    splits = random_splits(keys, n_splits=5, seed=3)
    assert splits == random_splits(keys, n_splits=5, seed=3) and len(splits) == 5
    for train, test in splits:
        assert len(test) == 2 and sorted(train + test, key=int) == keys
    limited = restrict_splits(splits, keys[:6])
    assert all(set(tr) | set(te) <= set(keys[:6]) for tr, te in limited)
    assert all(len(te) >= 2 for _, te in limited)
    with pytest.raises(ValueError, match="at least 4"):
        random_splits(keys[:3])
