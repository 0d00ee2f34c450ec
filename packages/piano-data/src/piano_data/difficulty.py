"""Piece difficulty data: the Mikrokosmos-difficulty set (MusicXML) and PSyllabus grades with user MIDI.

- :func:`load_mikrokosmos` reads the folder as upstream ships it (``musicxml/<n>.xml``, ``metadata/*.json``,
  ``splits.json``): 147 pieces with a 3-class label (0 beginner, 1 moderate, 2 professional; from
  ``books_mikrokosmos.json``) and a Henle grade 1-8 (``henle_mikrokosmos.json``). Item keys are the piece
  numbers as strings (``"1"`` .. ``"153"``; the four-hands pieces are absent upstream).
- :func:`mikrokosmos_splits` returns the 50 fixed train/test splits of ``splits.json`` unchanged
  (117/30 each), after checking that their labels agree with the metadata.
- :func:`load_psyllabus` matches a folder of MIDI files to the PSyllabus ``piece_key`` column
  (``"Composer I.Title"``): a file matches a key when its stem equals the key up to case, accents and
  punctuation (both are reduced to lowercase ASCII words). PSyllabus ships no splits: use
  :func:`random_splits`.
- :func:`musicxml_notes` turns a MusicXML score into a :class:`~piano_data.midi.NoteArray` through partitura:
  written notes (ties merged, repeats not unfolded, grace notes kept with a short duration), onsets in quarter
  notes converted to seconds at a fixed tempo (default 120 quarter notes per minute, i.e. 0.5 s per quarter,
  whatever the time signature or tempo marking says), velocity 64, no pedal. The score is the piece:
  difficulty is read from what is written, not from how someone played it.
"""

from __future__ import annotations

import csv
import random
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np

from piano_data.errors import PianoDataError, read_json
from piano_data.midi import NoteArray, read_notes

__all__ = [
    "DEFAULT_QPM",
    "DifficultyItem",
    "Split",
    "Target",
    "item_notes",
    "load_mikrokosmos",
    "load_psyllabus",
    "load_psyllabus_grades",
    "mikrokosmos_splits",
    "musicxml_notes",
    "normalise_key",
    "random_splits",
    "restrict_splits",
]

#: Fixed tempo (quarter notes per minute) used to turn score time into seconds.
DEFAULT_QPM = 120.0
#: Duration in seconds given to notes written with none (grace notes).
GRACE_DURATION_S = 0.05
MIDI_SUFFIXES = (".mid", ".midi")

Target = Literal["henle", "3class", "grade"]
Split = tuple[list[str], list[str]]  # (train keys, test keys)


@dataclass(frozen=True)
class DifficultyItem:
    """One piece with a difficulty label.

    ``score_path`` is the MusicXML score (Mikrokosmos) and ``notes_path`` a MIDI file (PSyllabus, user
    supplied); :func:`item_notes` reads the MIDI when there is one, else the score. ``label_3class`` is 0/1/2
    (beginner/moderate/professional), ``henle`` the Henle grade 1-8, ``grade`` the PSyllabus grade 0-10; a
    label the source lacks is ``None``.
    """

    key: str
    score_path: Path | None
    notes_path: Path | None = None
    label_3class: int | None = None
    henle: int | None = None
    grade: float | None = None
    source: str = "mikrokosmos"
    extra: dict[str, str] = field(default_factory=dict)

    def target(self, name: Target) -> float:
        """The label named ``name`` (``henle``, ``3class`` or ``grade``); raises if this item lacks it."""
        values = {"henle": self.henle, "3class": self.label_3class, "grade": self.grade}
        if name not in values:
            raise ValueError(f"unknown difficulty target {name!r}; choose henle, 3class or grade")
        value = values[name]
        if value is None:
            raise ValueError(f"{self.key}: has no {name!r} label ({self.source})")
        return float(value)


# --- MusicXML -> NoteArray ----------------------------------------------------------------------------------
def musicxml_notes(path: str | PathLike[str], qpm: float = DEFAULT_QPM, velocity: int = 64) -> NoteArray:
    """The written notes of a MusicXML score, in seconds at ``qpm`` quarter notes per minute (module doc)."""
    p = Path(path)
    if not p.is_file():
        raise PianoDataError(p, "MusicXML file not found")
    if p.stat().st_size == 0:
        raise PianoDataError(p, "MusicXML file is empty (0 bytes)")
    import partitura

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = partitura.load_musicxml(str(p), quiet=True)
            na = score.note_array()
    except Exception as exc:  # lxml / partitura raise many types with terse messages
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PianoDataError(p, f"not a readable MusicXML score ({msg})") from None
    if len(na) == 0:
        raise PianoDataError(p, "MusicXML score has no notes")
    sec_per_quarter = 60.0 / qpm
    onset = na["onset_quarter"].astype(np.float64) * sec_per_quarter
    dur = np.maximum(na["duration_quarter"].astype(np.float64) * sec_per_quarter, GRACE_DURATION_S)
    onset -= onset.min()  # pickup bars have negative onsets
    return NoteArray.from_arrays(onset, onset + dur, na["pitch"], np.full(len(na), velocity), source=str(p))


def item_notes(item: DifficultyItem, qpm: float = DEFAULT_QPM) -> NoteArray:
    """The item's notes: its MIDI file when it has one, else its MusicXML score at ``qpm``."""
    if item.notes_path is not None:
        return read_notes(item.notes_path)
    if item.score_path is None:
        raise PianoDataError(None, f"difficulty item {item.key!r} has neither a MIDI file nor a score")
    return musicxml_notes(item.score_path, qpm=qpm)


# --- Mikrokosmos --------------------------------------------------------------------------------------------
def _read_json(path: Path) -> object:
    if not path.is_file():
        raise PianoDataError(path, "file not found (is this the mikrokosmos_difficulty folder?)")
    return read_json(path)


def _piece_key(upstream_id: str) -> str:
    """``Mikrokosmos-difficulty/musicxml/12.xml`` -> ``12``."""
    return Path(upstream_id).stem


def _int_map(path: Path, key_fn: Callable[[str], str] = str) -> dict[str, int]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise PianoDataError(path, "expected a JSON object of piece -> label")
    try:
        return {key_fn(str(k)): int(v) for k, v in data.items()}
    except (TypeError, ValueError):
        raise PianoDataError(path, "labels must be integers") from None


def _metadata_rows(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r["piece number"].strip(): r for r in rows if r.get("piece number")}


def load_mikrokosmos(root: str | PathLike[str]) -> list[DifficultyItem]:
    """The pieces of the Mikrokosmos-difficulty folder ``root``, sorted by piece number.

    Every labelled piece must have its ``musicxml/<n>.xml`` (checked here; the scores are parsed later, by
    :func:`item_notes`). ``extra`` holds the work title and book from ``metadata/mikrokosmos_metadata.csv``.
    """
    root = Path(root)
    if not root.is_dir():
        raise PianoDataError(root, "Mikrokosmos-difficulty folder not found")
    meta = root / "metadata"
    classes = _int_map(meta / "books_mikrokosmos.json", _piece_key)
    henle = _int_map(meta / "henle_mikrokosmos.json")
    rows = _metadata_rows(meta / "mikrokosmos_metadata.csv")
    if set(classes) != set(henle):
        diff = sorted(set(classes) ^ set(henle), key=_num)
        raise PianoDataError(meta, f"3-class and Henle labels cover different pieces, e.g. {diff[:3]}")
    items = []
    for key in sorted(classes, key=_num):
        xml = root / "musicxml" / f"{key}.xml"
        if not xml.is_file():
            raise PianoDataError(xml, "MusicXML score of a labelled piece not found")
        if classes[key] not in (0, 1, 2) or not 1 <= henle[key] <= 8:
            raise PianoDataError(meta, f"piece {key}: labels out of range ({classes[key]}, henle {henle[key]})")
        row = rows.get(key, {})
        extra = {k: row[c].strip() for k, c in (("work", "work"), ("book", "book")) if row.get(c)}
        items.append(DifficultyItem(key, xml, None, classes[key], henle[key], None, "mikrokosmos", extra))
    return items


def _num(key: str) -> int:
    return int(key) if key.isdigit() else 10**9


def mikrokosmos_splits(root: str | PathLike[str]) -> list[Split]:
    """The 50 fixed ``(train_keys, test_keys)`` splits of ``splits.json`` in their order, with item keys."""
    root = Path(root)
    path = root / "splits.json"
    data = _read_json(path)
    if not isinstance(data, dict) or not data:
        raise PianoDataError(path, "expected a JSON object of split index -> split")
    classes = _int_map(root / "metadata" / "books_mikrokosmos.json", _piece_key)
    splits: list[Split] = []
    for name in sorted(data, key=_num):
        s = data[name]
        try:
            train, test = [_piece_key(k) for k in s["ids_train"]], [_piece_key(k) for k in s["ids_test"]]
            labels = list(s["y_train"]) + list(s["y_test"])
        except (KeyError, TypeError):
            raise PianoDataError(path, f"split {name}: needs ids_train, ids_test, y_train and y_test") from None
        if set(train) & set(test):
            raise PianoDataError(path, f"split {name}: train and test share pieces")
        unknown = [k for k in train + test if k not in classes]
        if unknown:
            raise PianoDataError(path, f"split {name}: unknown piece {unknown[0]}")
        if [classes[k] for k in train + test] != [int(y) for y in labels]:
            raise PianoDataError(path, f"split {name}: labels disagree with metadata/books_mikrokosmos.json")
        splits.append((train, test))
    return splits


# --- PSyllabus ----------------------------------------------------------------------------------------------
def normalise_key(name: str) -> str:
    """Lowercase ASCII words: ``"Bartók B.Allegro, no. 3"`` -> ``"bartok b allegro no 3"``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", " ", ascii_name.casefold()).strip()


def load_psyllabus_grades(grades_csv: str | PathLike[str]) -> dict[str, float]:
    """``piece_key -> grade`` from the PSyllabus CSV (columns ``piece_key``, ``grade_0_10``)."""
    path = Path(grades_csv)
    if not path.is_file():
        raise PianoDataError(path, "PSyllabus grades CSV not found")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        cols = set(reader.fieldnames or [])
        if not {"piece_key", "grade_0_10"} <= cols:
            raise PianoDataError(path, f"expected columns piece_key, grade_0_10; found {sorted(cols)}")
        grades: dict[str, float] = {}
        for line, row in enumerate(reader, start=2):
            try:
                grades[row["piece_key"]] = float(row["grade_0_10"])
            except (TypeError, ValueError):
                raise PianoDataError(path, f"line {line}: grade {row['grade_0_10']!r} is not a number") from None
    if not grades:
        raise PianoDataError(path, "no grades in the CSV")
    return grades


def load_psyllabus(grades_csv: str | PathLike[str], midi_folder: str | PathLike[str]) -> list[DifficultyItem]:
    """Items for the MIDI files of ``midi_folder`` (searched recursively) whose stem names a PSyllabus key.

    Files that match no key are ignored; two files matching one key, or no match at all, raise
    :class:`PianoDataError`. Items are sorted by key; ``extra["file_stem"]`` keeps the file's own name.
    """
    grades = load_psyllabus_grades(grades_csv)
    folder = Path(midi_folder)
    if not folder.is_dir():
        raise PianoDataError(folder, "MIDI folder not found")
    by_norm: dict[str, str] = {}
    for key in grades:
        by_norm.setdefault(normalise_key(key), key)
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in MIDI_SUFFIXES or not path.is_file():
            continue
        match = by_norm.get(normalise_key(path.stem))
        if match is None:
            continue
        if match in found:
            raise PianoDataError(path, f"matches PSyllabus key {match!r} already matched by {found[match]}")
        found[match] = path
    if not found:
        raise PianoDataError(folder, f"no MIDI file named after a PSyllabus piece_key of {Path(grades_csv).name}")
    return [
        DifficultyItem(key, None, found[key], None, None, grades[key], "psyllabus", {"file_stem": found[key].stem})
        for key in sorted(found)
    ]


# --- splits -------------------------------------------------------------------------------------------------
def random_splits(keys: Sequence[str], n_splits: int = 50, test_fraction: float = 0.2, seed: int = 0) -> list[Split]:
    """``n_splits`` random train/test splits (test share ``test_fraction``; at least 2 test, 2 train keys)."""
    keys = list(keys)
    if len(keys) < 4:
        raise ValueError(f"random splits need at least 4 items, got {len(keys)}")
    n_test = min(max(2, round(test_fraction * len(keys))), len(keys) - 2)
    rng = random.Random(seed)
    out: list[Split] = []
    for _ in range(n_splits):
        order = keys[:]
        rng.shuffle(order)
        out.append((sorted(order[n_test:]), sorted(order[:n_test])))
    return out


def restrict_splits(splits: Sequence[Split], keys: Sequence[str], min_size: int = 2) -> list[Split]:
    """The splits limited to ``keys``; those left with under ``min_size`` train or test keys are dropped."""
    have = set(keys)
    out = []
    for train, test in splits:
        tr, te = [k for k in train if k in have], [k for k in test if k in have]
        if len(tr) >= min_size and len(te) >= min_size:
            out.append((tr, te))
    return out
