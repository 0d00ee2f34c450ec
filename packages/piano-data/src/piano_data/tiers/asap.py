"""ASAP / (n)ASAP (T3): performance MIDI, score MIDI, beat/downbeat annotations, note alignments, match files.

Reads ``<root>/metadata.csv`` (paths relative to ``root``). Pieces are grouped by (composer, title), not by
folder (``*_no_repeat`` folders are variants of one piece). The performer is the performance file stem
without its take number and suffix (``Denisova06M`` -> ``denisova``, ``LEE_K05M`` -> ``lee_k``). Optional
files (annotations, note alignments, match files, audio) are ``None`` when absent from the local copy; a
missing performance MIDI is a logged, counted skip (or an error with ``strict=True``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from piano_data.errors import PianoDataError
from piano_data.tiers._manifest import SkipCounter, optional_path, read_rows, require_columns
from piano_data.tiers.performance import Performance, piece_key

__all__ = ["ASAP_COLUMNS", "BeatAnnotations", "asap_performer", "load_asap", "read_beat_annotations"]

ASAP_COLUMNS: tuple[str, ...] = ("composer", "title", "folder", "midi_performance", "midi_score")
_TAKE = re.compile(r"^(?P<name>.*?)[_-]?\d+(?:[_A-Za-z0-9-]*)$")


def asap_performer(stem: str) -> str:
    """Performer id from an ASAP performance file stem (take numbers and suffixes removed, lower case)."""
    m = _TAKE.match(stem)
    return (m.group("name") if m and m.group("name") else stem).lower()


def load_asap(root: str | PathLike[str], *, strict: bool = False) -> list[Performance]:
    """Every ASAP performance whose MIDI exists under ``root``, in metadata order."""
    base = Path(root)
    meta = base / "metadata.csv"
    if not meta.is_file():
        raise PianoDataError(meta, "ASAP metadata.csv not found (is this the ASAP root folder?)")
    rows = read_rows(meta)
    require_columns(meta, rows, ASAP_COLUMNS)
    skips = SkipCounter(f"ASAP {meta}", strict)
    out: list[Performance] = []
    for row_index, row in enumerate(rows):
        midi = base / row["midi_performance"]
        if not row["midi_performance"] or not midi.is_file():
            skips.skip(midi, "performance MIDI named in metadata.csv not found")
            continue
        align = optional_path(base, row.get("note_alignments", ""))
        extra = {"folder": row["folder"], "row": str(row_index)}  # row: 0-based data row of metadata.csv
        for col in ("maestro_midi_performance", "start", "end", "robust_note_alignment"):
            if row.get(col):
                extra[col] = row[col]
        out.append(
            Performance(
                key=f"asap:{row['midi_performance'].removesuffix('.mid')}",
                source="asap",
                piece=piece_key(row["composer"], row["title"]),
                composer=row["composer"],
                title=row["title"],
                performer=asap_performer(midi.stem),
                midi_path=midi,
                audio_path=optional_path(base, row.get("audio_performance", "")),
                score_midi_path=optional_path(base, row["midi_score"]),
                annotations_path=optional_path(base, row.get("performance_annotations", "")),
                score_annotations_path=optional_path(base, row.get("midi_score_annotations", "")),
                alignment_path=align,
                match_path=optional_path(base, row.get("match_file", "")),
                extra=extra,
            )
        )
    skips.report()
    return out


@dataclass(frozen=True)
class BeatAnnotations:
    """Beats of one ASAP annotation file: ``times`` [N] seconds, ``downbeat`` [N] bool, and the raw labels
    (``b``, ``db``, ``bR``, optionally with ``,<timesig>`` and ``,<key>``)."""

    times: np.ndarray
    downbeat: np.ndarray
    labels: tuple[str, ...]


def read_beat_annotations(path: str | PathLike[str]) -> BeatAnnotations:
    """Read an ASAP ``*_annotations.txt`` (tab-separated: time, time, label). Performance and score files list
    the same beats in the same order, so zipping the two gives a beat-level performance-to-score alignment."""
    p = Path(path)
    if not p.is_file():
        raise PianoDataError(p, "annotation file not found")
    times, labels = [], []
    for i, line in enumerate(p.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            times.append(float(fields[0]))
            labels.append(fields[2].strip())
        except (IndexError, ValueError):
            raise PianoDataError(f"{p} (line {i})", "expected 'time<TAB>time<TAB>label'") from None
    if not times:
        raise PianoDataError(p, "annotation file has no beats")
    down = np.array([lab.split(",")[0] == "db" for lab in labels])
    return BeatAnnotations(np.asarray(times, dtype=np.float64), down, tuple(labels))
