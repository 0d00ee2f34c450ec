"""The example of ``piano-eval demo``: a short piece and a student's performance of it, generated in code.

The score is 16 bars of 4/4 in C major at 96 quarters per minute (a right-hand melody in eighths and quarters
over a left-hand bass and chords, four phrases of different harmony). The performance plays it with a phrase-shaped
tempo and dynamics, small onset jitter and pedal once per bar, plus mistakes at known places
(:data:`MISTAKES`): a wrong note, a missed chord note, an extra note and two rushed bars. Both are written as
MIDI files; nothing is copied from any dataset. Deterministic: the same files every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.atomic import atomic_path, write_text_atomic

__all__ = ["MISTAKES", "Example", "write_example"]

QPM = 96.0
TPQ = 480
BARS = 16
#: bar number (1-based) -> what the performance does wrong there
MISTAKES: dict[int, str] = {
    5: "wrong note: the melody's E5 played as F5",
    9: "missed note: E3, the lowest note of the left hand's chord on beat 4",
    12: "extra note: a G#4 between the beats",
    14: "rushed (about 25% faster), with bar 15",
    15: "rushed (about 25% faster), with bar 14",
}
_C, _AM, _F, _G = (60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)  # chord tones around middle C
#: per bar: chord; four phrases, each of its own harmony, so that no two phrases are the same music
_PROGRESSION = [_C, _AM, _F, _G, _C, _F, _AM, _G, _AM, _F, _C, _G, _F, _G, _C, _C]
#: per bar: (melody figure, transposition in semitones)
_MELODY_OF_BAR = [(0, 0), (1, 0), (2, 0), (3, 0), (0, 0), (2, 0), (1, 0), (3, 2), (1, 5), (2, 3), (0, 3), (3, 0),
                  (2, -2), (3, 0), (0, -4), (1, 0)]  # fmt: skip
_MELODY = [  # per bar: (beat offset, length in beats, pitch) over the chord of that bar
    [(0, 1, 76), (1, 0.5, 74), (1.5, 0.5, 72), (2, 1, 74), (3, 1, 76)],
    [(0, 1.5, 72), (1.5, 0.5, 71), (2, 1, 69), (3, 1, 72)],
    [(0, 1, 69), (1, 0.5, 72), (1.5, 0.5, 77), (2, 1, 76), (3, 1, 74)],
    [(0, 2, 74), (2, 0.5, 71), (2.5, 0.5, 72), (3, 1, 74)],
]


@dataclass(frozen=True)
class Example:
    score: Path  # MIDI
    score_musicxml: Path  # the same score as MusicXML
    performance: Path
    mistakes: dict[int, str]


def _score_notes() -> list[tuple[float, float, int, int]]:
    """(onset beat, length beats, pitch, velocity) of the score."""
    notes: list[tuple[float, float, int, int]] = []
    for bar in range(BARS):
        chord = _PROGRESSION[bar]
        figure, shift = _MELODY_OF_BAR[bar]
        for beat, length, pitch in _MELODY[figure]:
            notes.append((4 * bar + beat, length, pitch + shift, 72))
        notes.append((4 * bar, 2.0, chord[0] - 12, 60))  # bass
        notes.append((4 * bar + 2, 2.0, chord[0] - 12, 56))
        for beat in (1, 3):
            for p in chord:
                notes.append((4 * bar + beat, 0.9, p - (12 if p > 62 else 0), 50))
    return notes


def _write_midi(notes: list[tuple[float, float, int, int]], path: Path, *, seconds: bool) -> Path:
    import symusic

    score: Any
    track: Any
    if seconds:
        score = symusic.Score(TPQ, ttype="second")
        track = symusic.Track(name="piano", program=0, ttype="second")
        for on, dur, pitch, vel in notes:
            track.notes.append(symusic.Note(float(on), float(dur), int(pitch), int(vel), "second"))
    else:
        score = symusic.Score(TPQ)
        score.tempos.append(symusic.Tempo(0, QPM))
        score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
        track = symusic.Track(name="piano", program=0)
        for on, dur, pitch, vel in notes:
            track.notes.append(symusic.Note(round(on * TPQ), round(dur * TPQ), int(pitch), int(vel)))
    score.tracks.append(track)
    with atomic_path(path) as tmp:
        score.dump_midi(str(tmp))
    return path


def _performance(score: list[tuple[float, float, int, int]], seed: int = 7) -> list[tuple[float, float, int, int]]:
    rng = np.random.default_rng(seed)
    beats = np.arange(4 * BARS + 1, dtype=np.float64)
    # seconds per beat: a slight arch over each 4-bar phrase, the end held back, bars 14-15 rushed
    spb = np.full(len(beats) - 1, 60.0 / QPM)
    bar_of_beat = (beats[:-1] // 4).astype(int) + 1
    spb *= 1.0 + 0.04 * np.cos(2 * np.pi * (beats[:-1] % 16) / 16)
    spb[np.isin(bar_of_beat, (14, 15))] *= 0.78
    spb[-2:] *= 1.25
    t_beat = np.concatenate([[0.5], 0.5 + np.cumsum(spb)])

    def at(beat: float) -> float:
        return float(np.interp(beat, beats, t_beat))

    out = []
    for on, dur, pitch, vel in score:
        bar = int(on // 4) + 1
        if bar == 9 and pitch == 52 and on % 4 == 3:  # missed: E3, the lowest note of the beat-4 chord
            continue
        if bar == 5 and pitch == 76 and on % 4 == 0:  # wrong: E5 played as F5
            pitch = 77
        shape = 1.0 + 0.25 * np.sin(np.pi * ((on % 16) / 16))
        v = int(np.clip(round(vel * shape + rng.normal(0, 3)), 20, 110))
        t0 = at(on) + rng.normal(0, 0.012)
        out.append((max(t0, 0.0), max(at(on + dur) - at(on) - 0.03, 0.05), pitch, v))
    out.append((at(4 * 11 + 2.5), 0.25, 68, 66))  # extra: G#4 between beats 3 and 4 of bar 12
    return sorted(out)


_STEPS = (("C", 0), ("C", 1), ("D", 0), ("D", 1), ("E", 0), ("F", 0), ("F", 1), ("G", 0), ("G", 1), ("A", 0),
          ("A", 1), ("B", 0))  # fmt: skip
_TYPES = {1: "eighth", 2: "quarter", 3: "quarter", 4: "half"}  # duration in eighths -> note type (3: dotted)


def _xml_note(pitch: int | None, eighths: int, voice: int, chord: bool = False) -> str:
    if pitch is None:
        body = "<rest/>"
    else:
        step, alter = _STEPS[pitch % 12]
        alt = f"<alter>{alter}</alter>" if alter else ""
        body = f"<pitch><step>{step}</step>{alt}<octave>{pitch // 12 - 1}</octave></pitch>"
    dot = "<dot/>" if eighths == 3 else ""
    return (
        f"<note>{'<chord/>' if chord else ''}{body}<duration>{eighths}</duration><voice>{voice}</voice>"
        f"<type>{_TYPES[eighths]}</type>{dot}</note>"
    )


def _musicxml() -> str:
    """The score as MusicXML 3.1 (one part, three voices per bar: melody, bass, chords; divisions = eighths)."""
    measures = []
    for bar in range(BARS):
        chord = sorted(p - (12 if p > 62 else 0) for p in _PROGRESSION[bar])
        bass = _PROGRESSION[bar][0] - 12
        figure, shift = _MELODY_OF_BAR[bar]
        head = ""
        if bar == 0:
            head = (
                "<attributes><divisions>2</divisions><key><fifths>0</fifths></key><time><beats>4</beats>"
                "<beat-type>4</beat-type></time><clef><sign>G</sign><line>2</line></clef></attributes>"
                f'<direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit>'
                f'<per-minute>{QPM:g}</per-minute></metronome></direction-type><sound tempo="{QPM:g}"/></direction>'
            )
        melody = "".join(_xml_note(p + shift, round(2 * length), 1) for _, length, p in _MELODY[figure])
        back = "<backup><duration>8</duration></backup>"
        low = _xml_note(bass, 4, 2) + _xml_note(bass, 4, 2)
        chords = ""
        for _ in range(2):
            chords += _xml_note(None, 2, 3) + "".join(_xml_note(p, 2, 3, chord=k > 0) for k, p in enumerate(chord))
        measures.append(f'<measure number="{bar + 1}">{head}{melody}{back}{low}{back}{chords}</measure>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 3.1 '
        'Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">\n<score-partwise version="3.1"><part-list>'
        '<score-part id="P1"><part-name>Piano</part-name></score-part></part-list><part id="P1">'
        + "".join(measures)
        + "</part></score-partwise>\n"
    )


def write_example(folder: str | Path) -> Example:
    """Write the example's score (MIDI and MusicXML) and performance (MIDI) into ``folder``."""
    out = Path(folder)
    notes = _score_notes()
    score = _write_midi(notes, out / "example_score.mid", seconds=False)
    xml = write_text_atomic(out / "example_score.musicxml", _musicxml())
    perf = _write_midi(_performance(notes), out / "example_performance.mid", seconds=True)
    return Example(score, xml, perf, dict(MISTAKES))
