"""Scores with their metre: notes in score seconds plus bars, beats and time signatures.

:func:`read_score` reads a score MIDI (``.mid``/``.midi``: bars and beats from its time signatures, seconds from
its tempo map) or MusicXML (``.musicxml``/``.mxl``/``.xml`` through partitura, parts merged, repeats unfolded as
written, i.e. every repeated section played twice; seconds from the score's metronome marks, else 120 quarters
per minute). The result is a :class:`ScoreData`, whose notes are a :class:`~piano_data.midi.NoteArray` any aligner
takes as a score.

Beats follow the time signature: one beat per denominator unit (3/4 has three quarter beats), except compound
metres (6/8, 9/8, 12/8, 6/16, ...) whose beat is the dotted unit (6/8 has two dotted-quarter beats).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import symusic

from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray

__all__ = ["MIDI_SUFFIXES", "XML_SUFFIXES", "ScoreData", "beat_length", "read_score", "score_from_notes"]

MIDI_SUFFIXES = (".mid", ".midi")
XML_SUFFIXES = (".musicxml", ".mxl", ".xml")
DEFAULT_QPM = 120.0  # quarters per minute of a MusicXML score without metronome marks


@dataclass(frozen=True)
class ScoreData:
    """A score: its notes in score seconds and its metrical grid.

    | field | meaning |
    |---|---|
    | ``notes`` | the score's notes (seconds, sorted by onset then pitch); velocity 64 for MusicXML |
    | ``bar_times`` | start of each bar in score seconds, increasing (a pickup bar counts as a bar) |
    | ``bar_numbers`` | the score's own measure number of each bar (MusicXML names; ``"1"``, ``"2"``, ... for MIDI) |
    | ``beat_times`` | every beat in score seconds, increasing; each bar starts on a beat |
    | ``time_signatures`` | ``(score seconds, numerator, denominator)`` at each change, the first at 0.0 |
    | ``source`` | the file read |
    """

    notes: NoteArray
    bar_times: np.ndarray
    bar_numbers: list[str]
    beat_times: np.ndarray
    time_signatures: list[tuple[float, int, int]]
    source: str

    def __post_init__(self) -> None:
        if len(self.bar_times) == 0 or len(self.bar_times) != len(self.bar_numbers):
            raise ValueError("ScoreData needs one bar number per bar and at least one bar")
        if len(self.beat_times) < 2 or np.any(np.diff(self.beat_times) <= 0) or np.any(np.diff(self.bar_times) <= 0):
            raise ValueError("ScoreData bar and beat times must be strictly increasing (at least two beats)")

    @property
    def n_bars(self) -> int:
        return len(self.bar_times)

    def bar_index(self, times: np.ndarray | float) -> np.ndarray:
        """0-based index of the bar holding each score time (times before the first bar give 0)."""
        t = np.asarray(times, dtype=np.float64)
        return np.clip(np.searchsorted(self.bar_times, t, side="right") - 1, 0, None).astype(np.int64)

    def beat_position(self, times: np.ndarray | float) -> np.ndarray:
        """Fractional beat index of each score time (0.0 on the first beat; linear between beats, extrapolated
        with the neighbouring beat length outside the grid)."""
        t = np.asarray(times, dtype=np.float64)
        b = self.beat_times
        idx = np.arange(len(b), dtype=np.float64)
        out = np.interp(t, b, idx)
        out = np.where(t < b[0], (t - b[0]) / (b[1] - b[0]), out)
        return np.where(t > b[-1], len(b) - 1 + (t - b[-1]) / (b[-1] - b[-2]), out)

    def beat_in_bar(self, times: np.ndarray | float) -> np.ndarray:
        """Position in the bar in beats (0.0 on the downbeat) of each score time."""
        t = np.asarray(times, dtype=np.float64)
        return self.beat_position(t) - self.beat_position(self.bar_times[self.bar_index(t)])

    def beat_duration(self, times: np.ndarray | float) -> np.ndarray:
        """Length in score seconds of the beat holding each score time."""
        t = np.asarray(times, dtype=np.float64)
        d = np.diff(self.beat_times)
        k = np.clip(np.searchsorted(self.beat_times, t, side="right") - 1, 0, len(d) - 1)
        return d[k]


def beat_length(numerator: int, denominator: int) -> float:
    """Length of one beat in quarter notes: the denominator unit, dotted in compound metres."""
    unit = 4.0 / denominator
    compound = numerator > 3 and numerator % 3 == 0 and denominator >= 8
    return 3 * unit if compound else unit


def _seconds(q: np.ndarray, tempo_q: np.ndarray, qpm: np.ndarray) -> np.ndarray:
    """Seconds of quarter positions ``q`` under a piecewise-constant tempo (``qpm`` from ``tempo_q`` on)."""
    q = np.asarray(q, dtype=np.float64)
    spq = 60.0 / qpm
    start_s = np.concatenate([[0.0], np.cumsum(np.diff(tempo_q) * spq[:-1])])
    k = np.clip(np.searchsorted(tempo_q, q, side="right") - 1, 0, None)
    return start_s[k] + (q - tempo_q[k]) * spq[k]


def _beats_in(start: float, end: float, num: int, den: int) -> list[float]:
    step = beat_length(num, den)
    n = max(int(np.ceil((end - start) / step - 1e-9)), 1)
    return [start + i * step for i in range(n)]


def _midi_grid(
    ts: list[tuple[float, int, int]], end_q: float
) -> tuple[list[float], list[str], list[float], list[tuple[float, int, int]]]:
    """Bars and beats (in quarters) from MIDI time signatures; a change starts a new bar."""
    ts = sorted(ts) or [(0.0, 4, 4)]
    if ts[0][0] > 0:
        ts.insert(0, (0.0, 4, 4))
    bars: list[float] = []
    beats: list[float] = []
    for i, (start, num, den) in enumerate(ts):
        stop = ts[i + 1][0] if i + 1 < len(ts) else max(end_q, start + 1e-6)
        bar_len = 4.0 * num / den
        t = start
        last = i + 1 == len(ts)
        while t < stop - 1e-9:
            bars.append(t)
            end = t + bar_len if last else min(t + bar_len, stop)  # the last bar keeps all its beats
            beats += _beats_in(t, end, num, den)
            t += bar_len
    if len(beats) < 2:
        beats.append(beats[-1] + beat_length(ts[-1][1], ts[-1][2]))
    return bars, [str(i + 1) for i in range(len(bars))], beats, ts


def _in_seconds(
    p: Path,
    notes_q: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    grid: tuple[list[float], list[str], list[float], list[tuple[float, int, int]]],
    tempo_q: np.ndarray,
    qpm: np.ndarray,
) -> ScoreData:
    """The :class:`ScoreData` of notes ``(onset, offset, pitch, velocity)`` and a bar/beat/time-signature grid, all
    in quarters, under a piecewise-constant tempo (``qpm`` from ``tempo_q`` on)."""
    on_q, off_q, pitch, velocity = notes_q
    bars, numbers, beats, sigs = grid
    notes = NoteArray.from_arrays(
        _seconds(on_q, tempo_q, qpm), _seconds(off_q, tempo_q, qpm), pitch, velocity, source=str(p)
    )
    return ScoreData(
        notes,
        _seconds(np.asarray(bars), tempo_q, qpm),
        numbers,
        _seconds(np.asarray(beats), tempo_q, qpm),
        [(float(_seconds(np.array([q]), tempo_q, qpm)[0]), n, d) for q, n, d in sigs],
        str(p),
    )


def _read_midi(p: Path) -> ScoreData:
    try:
        score: Any = symusic.Score(str(p), ttype="tick")  # Any: symusic's stubs lack the Score attributes
    except Exception as exc:
        raise PianoDataError(p, f"not a readable MIDI file ({exc})") from None
    tpq = float(score.ticks_per_quarter)
    onsets, ends, pitches, vels = [], [], [], []
    for track in score.tracks:
        if track.is_drum:
            continue
        arr = track.notes.numpy()
        onsets.append(arr["time"] / tpq)
        ends.append((arr["time"] + arr["duration"]) / tpq)
        pitches.append(arr["pitch"])
        vels.append(arr["velocity"])
    if sum(len(o) for o in onsets) == 0:
        raise PianoDataError(p, "score MIDI has no notes")
    on_q, off_q = np.concatenate(onsets), np.concatenate(ends)
    tempos = sorted((t.time / tpq, float(t.qpm)) for t in score.tempos if t.qpm > 0)
    if not tempos or tempos[0][0] > 0:
        tempos.insert(0, (0.0, 120.0))
    tempo_q = np.array([t[0] for t in tempos])
    qpm = np.array([t[1] for t in tempos])
    ts = [(t.time / tpq, int(t.numerator), int(t.denominator)) for t in score.time_signatures if t.numerator > 0]
    bars, numbers, beats, ts = _midi_grid(ts, float(off_q.max()))
    grid = (bars, numbers, beats, ts)
    return _in_seconds(p, (on_q, off_q, np.concatenate(pitches), np.concatenate(vels)), grid, tempo_q, qpm)


def _read_musicxml(p: Path) -> ScoreData:
    import partitura
    import partitura.score as pts

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = partitura.load_score(str(p))
            parts = list(loaded.parts)
            if not parts:
                raise PianoDataError(p, "MusicXML score has no parts")
            part = parts[0] if len(parts) == 1 else pts.merge_parts(parts)
            part = pts.unfold_part_maximal(part)
            na = part.note_array()
            measures = list(part.iter_all(pts.Measure))
            sigs = [(ts.start.t, int(ts.beats), int(ts.beat_type)) for ts in part.iter_all(pts.TimeSignature)]
            marks = [(t.start.t, float(t.microseconds_per_quarter)) for t in part.iter_all(pts.Tempo)]
            qmap = part.quarter_map
    except PianoDataError:
        raise
    except Exception as exc:  # lxml, zipfile and partitura's own errors
        raise PianoDataError(p, f"not a readable MusicXML score ({type(exc).__name__}: {exc})") from None
    if len(na) == 0:
        raise PianoDataError(p, "MusicXML score has no notes")
    on_q = na["onset_quarter"].astype(np.float64)
    off_q = on_q + na["duration_quarter"].astype(np.float64)
    if marks:
        tempo_q = np.asarray(qmap([m[0] for m in marks]), dtype=np.float64)
        qpm = np.array([60e6 / m[1] for m in marks])
        keep = np.concatenate([np.diff(tempo_q) > 0, [True]])  # last mark at one position wins
        tempo_q, qpm = tempo_q[keep], qpm[keep]
        if tempo_q[0] > 0:
            tempo_q, qpm = np.concatenate([[0.0], tempo_q]), np.concatenate([[qpm[0]], qpm])
    else:
        tempo_q, qpm = np.array([0.0]), np.array([DEFAULT_QPM])
    sig_q = sorted((float(qmap(t)), n, d) for t, n, d in sigs) or [(0.0, 4, 4)]
    end_q = float(max(off_q.max(), on_q.max() + 1e-3))
    if measures:
        starts = np.asarray(qmap([m.start.t for m in measures]), dtype=np.float64)
        stops = np.asarray(qmap([m.end.t for m in measures]), dtype=np.float64)
        numbers = [str(m.name if m.name is not None else m.number) for m in measures]
        keep_m = np.concatenate([[True], np.diff(starts) > 0]) & (stops > starts)
        starts, stops = starts[keep_m], stops[keep_m]
        numbers = [n for n, k in zip(numbers, keep_m, strict=True) if k]
        beats: list[float] = []
        for a, b in zip(starts, stops, strict=True):
            k = max(np.searchsorted([s[0] for s in sig_q], a + 1e-9) - 1, 0)
            beats += _beats_in(float(a), float(b), sig_q[k][1], sig_q[k][2])
        bars = list(map(float, starts))
        if end_q > stops[-1] + 1e-9:  # notes after the last measure (should not happen): one more beat
            beats.append(float(stops[-1]))
    else:
        bars, numbers, beats, sig_q = _midi_grid(sig_q, end_q)
    beats = sorted(set(beats))
    if len(beats) < 2:
        beats.append(beats[-1] + beat_length(sig_q[-1][1], sig_q[-1][2]))
    grid = (bars, numbers, beats, sig_q)
    return _in_seconds(p, (on_q, off_q, na["pitch"], np.full(len(na), 64)), grid, tempo_q, qpm)


def score_from_notes(notes: NoteArray, numerator: int = 4, denominator: int = 4, qpm: float = DEFAULT_QPM) -> ScoreData:
    """A :class:`ScoreData` for bare score notes (e.g. a score read elsewhere) with an assumed metre: one time
    signature from 0 s at ``qpm`` quarters per minute. Bars and beats are only as right as that assumption."""
    if len(notes) == 0:
        raise PianoDataError(notes.source, "score has no notes")
    spq = 60.0 / qpm
    end_q = float(max(notes.offset.max(), notes.onset.max() + 1e-3)) / spq
    bars, numbers, beats, _ = _midi_grid([(0.0, numerator, denominator)], end_q)
    return ScoreData(
        notes,
        np.asarray(bars) * spq,
        numbers,
        np.asarray(beats) * spq,
        [(0.0, numerator, denominator)],
        notes.source or "notes",
    )


def read_score(path: str | PathLike[str]) -> ScoreData:
    """Read a score MIDI or MusicXML file. Raises :class:`PianoDataError` naming the file on any problem."""
    p = Path(path)
    if not p.is_file():
        raise PianoDataError(p, "score file not found")
    if p.stat().st_size == 0:
        raise PianoDataError(p, "score file is empty (0 bytes)")
    suffix = p.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return _read_midi(p)
    if suffix in XML_SUFFIXES:
        return _read_musicxml(p)
    raise PianoDataError(p, f"unknown score format {suffix!r} (expected .mid, .midi, .musicxml, .mxl or .xml)")
