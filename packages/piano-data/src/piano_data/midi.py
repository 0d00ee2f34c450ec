"""MIDI I/O through symusic: every MIDI in the project is read here, with clear errors.

A performance is reduced to a :class:`NoteArray`: all non-drum notes of all tracks merged and sorted by onset,
times in seconds, plus sustain-pedal intervals (CC64 >= 64).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
from symusic.core import ControlChangeSecond, NoteSecond, ScoreSecond, TrackSecond

from piano_data.atomic import atomic_path
from piano_data.errors import PianoDataError

__all__ = ["NoteArray", "load_midi", "read_notes", "write_notes"]


@dataclass(frozen=True)
class NoteArray:
    """Notes of one performance, sorted by (onset, pitch). Times in seconds."""

    onset: np.ndarray  # float64 [N]
    offset: np.ndarray  # float64 [N]
    pitch: np.ndarray  # int64 [N]
    velocity: np.ndarray  # int64 [N]
    pedal: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # float64 [P, 2] (start, end)
    source: str | None = None

    def __post_init__(self) -> None:
        n = len(self.onset)
        if not (len(self.offset) == len(self.pitch) == len(self.velocity) == n):
            raise ValueError("NoteArray fields must have the same length")

    def __len__(self) -> int:
        return len(self.onset)

    @property
    def duration(self) -> np.ndarray:
        return self.offset - self.onset

    @property
    def end_time(self) -> float:
        ends = [float(self.offset.max()) if len(self) else 0.0]
        if len(self.pedal):
            ends.append(float(self.pedal[:, 1].max()))
        return max(ends)

    def pedal_down(self, times: np.ndarray) -> np.ndarray:
        """Boolean array: is the sustain pedal down at each of ``times``."""
        down = np.zeros(len(times), dtype=bool)
        for start, end in self.pedal:
            down |= (times >= start) & (times < end)
        return down

    @classmethod
    def from_arrays(
        cls,
        onset: np.ndarray,
        offset: np.ndarray,
        pitch: np.ndarray,
        velocity: np.ndarray,
        pedal: np.ndarray | None = None,
        source: str | None = None,
    ) -> NoteArray:
        onset = np.asarray(onset, dtype=np.float64)
        offset = np.maximum(np.asarray(offset, dtype=np.float64), onset)
        pitch = np.asarray(pitch, dtype=np.int64)
        velocity = np.asarray(velocity, dtype=np.int64)
        order = np.lexsort((pitch, onset))
        ped = np.zeros((0, 2)) if pedal is None else np.asarray(pedal, dtype=np.float64).reshape(-1, 2)
        return cls(onset[order], offset[order], pitch[order], velocity[order], ped, source)


def load_midi(path: str | PathLike[str]) -> ScoreSecond:
    """Read a MIDI file in seconds. Raises :class:`PianoDataError` naming the file on any problem."""
    p = Path(path)
    if not p.is_file():
        raise PianoDataError(p, "MIDI file not found")
    if p.stat().st_size == 0:
        raise PianoDataError(p, "MIDI file is empty (0 bytes)")
    try:
        return ScoreSecond(str(p))
    except Exception as exc:  # symusic raises ValueError/RuntimeError with terse messages
        raise PianoDataError(p, f"not a readable MIDI file ({exc})") from None


def read_notes(path: str | PathLike[str], *, require_notes: bool = True) -> NoteArray:
    """Load a MIDI file as a merged, sorted :class:`NoteArray` (drum tracks ignored)."""
    score = load_midi(path)
    onsets, durs, pitches, vels, pedals = [], [], [], [], []
    for track in score.tracks:
        if track.is_drum:
            continue
        arr = track.notes.numpy()
        onsets.append(arr["time"])
        durs.append(arr["duration"])
        pitches.append(arr["pitch"])
        vels.append(arr["velocity"])
        ped = track.pedals.numpy()
        if len(ped["time"]):
            pedals.append(np.stack([ped["time"], ped["time"] + ped["duration"]], axis=1))
    if not onsets or sum(len(o) for o in onsets) == 0:
        if require_notes:
            raise PianoDataError(path, "MIDI file has no piano notes")
        return NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), source=str(path))
    onset = np.concatenate(onsets).astype(np.float64)
    pedal = np.concatenate(pedals) if pedals else None
    return NoteArray.from_arrays(
        onset,
        onset + np.concatenate(durs).astype(np.float64),
        np.concatenate(pitches),
        np.concatenate(vels),
        pedal,
        source=str(path),
    )


def write_notes(notes: NoteArray, path: str | PathLike[str]) -> Path:
    """Write a :class:`NoteArray` as a one-track piano MIDI (with CC64 pedal), atomically."""
    score = ScoreSecond(480)
    track = TrackSecond("piano", 0, False)
    for on, off, p, v in zip(notes.onset, notes.offset, notes.pitch, notes.velocity, strict=True):
        track.notes.append(NoteSecond(float(on), float(max(off - on, 1e-3)), int(p), int(v)))
    for start, end in notes.pedal:
        track.controls.append(ControlChangeSecond(float(start), 64, 127))
        track.controls.append(ControlChangeSecond(float(end), 64, 0))
    score.tracks.append(track)
    out = Path(path)
    with atomic_path(out) as tmp:
        score.dump_midi(str(tmp))
    return out
