"""CSV writers for alignments (atomic: :mod:`piano_data.atomic`)."""

from __future__ import annotations

import csv
from os import PathLike
from pathlib import Path

import numpy as np
from piano_data.atomic import atomic_path
from piano_data.midi import NoteArray

from piano_symbolic.align.types import NoteMatches, TimeMap

__all__ = ["NOTE_MATCH_HEADER", "STATUS", "TIME_MAP_HEADER", "write_note_matches_csv", "write_time_map_csv"]

TIME_MAP_HEADER = ("score_time", "performance_time")
NOTE_MATCH_HEADER = (
    "label", "status", "score_index", "performance_index", "pitch", "performance_pitch",
    "score_onset", "performance_onset", "performance_velocity",
)  # fmt: skip
#: ``status`` of a row by its label: what happened to the score note (matched, missed, substituted by a wrong
#: pitch) or to the performed note (extra).
STATUS = {"match": "matched", "substitution": "substituted", "deletion": "missed", "insertion": "extra"}


def _write_rows(path: str | PathLike[str], header: tuple[str, ...], rows: list[tuple]) -> Path:
    out = Path(path)
    with atomic_path(out) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return out


def write_time_map_csv(time_map: TimeMap, path: str | PathLike[str]) -> Path:
    """Write ``score_time,performance_time`` rows (seconds, 6 decimals), non-decreasing in both columns."""
    rows = [(f"{s:.6f}", f"{p:.6f}") for s, p in zip(time_map.score_time, time_map.performance_time, strict=True)]
    return _write_rows(path, TIME_MAP_HEADER, rows)


def write_note_matches_csv(
    matches: NoteMatches, score: NoteArray, performance: NoteArray, path: str | PathLike[str]
) -> Path:
    """Write one row per match, substitution (a wrong pitch played at the score note's place), missed score note
    (``deletion``) or extra performed note (``insertion``); ``status`` says the same in words (``matched``,
    ``substituted``, ``missed``, ``extra``). ``pitch`` is the score note's pitch (the performed one for an
    extra note), ``performance_pitch`` the pitch played.

    Rows are ordered by score onset (insertions by performance onset, placed after their time); empty cells
    stand for the side a row does not have.
    """
    rows = []
    keys = []
    for label, si, pi in zip(matches.labels, matches.score_index, matches.performance_index, strict=True):
        s_on = f"{score.onset[si]:.6f}" if si >= 0 else ""
        p_on = f"{performance.onset[pi]:.6f}" if pi >= 0 else ""
        pitch = int(score.pitch[si] if si >= 0 else performance.pitch[pi])
        p_pitch = str(int(performance.pitch[pi])) if pi >= 0 else ""
        vel = str(int(performance.velocity[pi])) if pi >= 0 else ""
        rows.append(
            (label, STATUS[label], si if si >= 0 else "", pi if pi >= 0 else "", pitch, p_pitch, s_on, p_on, vel)
        )
        keys.append((float(score.onset[si]) if si >= 0 else np.inf, float(performance.onset[pi]) if pi >= 0 else 0))
    order = sorted(range(len(rows)), key=lambda k: keys[k])
    return _write_rows(path, NOTE_MATCH_HEADER, [rows[k] for k in order])
