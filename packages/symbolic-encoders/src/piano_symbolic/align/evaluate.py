"""Beat-level evaluation of a time map against annotated beats (ASAP style)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
from piano_data.errors import PianoDataError

from piano_symbolic.align.types import TimeMap

__all__ = ["BeatAnnotations", "beat_errors", "read_beat_annotations", "summarize_errors"]


class BeatAnnotations:
    """Beat times and which of them are downbeats (``db``)."""

    def __init__(self, time: np.ndarray, downbeat: np.ndarray) -> None:
        self.time = np.asarray(time, dtype=np.float64)
        self.downbeat = np.asarray(downbeat, dtype=bool)

    def __len__(self) -> int:
        return len(self.time)


def read_beat_annotations(path: str | PathLike[str]) -> BeatAnnotations:
    """Read an ASAP ``*_annotations.txt`` (TSV ``time, time, label[,timesig[,key]]``; labels b, db, bR)."""
    p = Path(path)
    if not p.is_file():
        raise PianoDataError(p, "annotation file not found")
    times, down = [], []
    for n, line in enumerate(p.read_text().splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 3:
            raise PianoDataError(p, f"line {n}: expected 3 tab-separated columns, got {len(cols)}")
        try:
            times.append(float(cols[0]))
        except ValueError:
            raise PianoDataError(p, f"line {n}: time {cols[0]!r} is not a number") from None
        down.append(cols[2].split(",")[0].strip() == "db")
    if not times:
        raise PianoDataError(p, "no beats annotated")
    return BeatAnnotations(np.array(times), np.array(down))


def beat_errors(time_map: TimeMap, score_beats: np.ndarray, perf_beats: np.ndarray) -> np.ndarray:
    """Signed error (s) of each score beat mapped to the performance, against the annotated beat."""
    return time_map(np.asarray(score_beats, dtype=np.float64)) - np.asarray(perf_beats, dtype=np.float64)


def summarize_errors(errors: np.ndarray, downbeat: np.ndarray) -> dict[str, float]:
    """Median/mean absolute beat error (ms), shares of beats within 30/50/100 ms and downbeats 30/100 ms."""
    err = np.abs(np.asarray(errors, dtype=np.float64))
    down = err[np.asarray(downbeat, dtype=bool)]
    out = {
        "n_beats": len(err),
        "median_ms": float(np.median(err) * 1000) if len(err) else float("nan"),
        "mean_ms": float(np.mean(err) * 1000) if len(err) else float("nan"),
    }
    for ms in (30, 50, 100):
        out[f"beats_within_{ms}ms"] = float(np.mean(err <= ms / 1000)) if len(err) else float("nan")
    for ms in (30, 100):
        out[f"downbeats_within_{ms}ms"] = float(np.mean(down <= ms / 1000)) if len(down) else float("nan")
    return out
