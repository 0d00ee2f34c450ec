from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import symusic
from piano_data.errors import PianoDataError
from piano_data.midi import read_notes
from piano_data.score import beat_length, read_score

XML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 3.1 Partwise//EN"
  "http://www.musicxml.org/dtds/partwise.dtd">
<score-partwise version="3.1">
  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions><time><beats>3</beats><beat-type>4</beat-type></time></attributes>
      <direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit>
        <per-minute>60</per-minute></metronome></direction-type><sound tempo="60"/></direction>
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>3</duration><type>half</type><dot/></note>
    </measure>
    <measure number="2">
      <note><pitch><step>D</step><octave>4</octave></pitch><duration>3</duration><type>half</type><dot/></note>
      <barline location="right"><repeat direction="backward"/></barline>
    </measure>
    <measure number="3">
      <note><pitch><step>E</step><octave>4</octave></pitch><duration>3</duration><type>half</type><dot/></note>
    </measure>
  </part>
</score-partwise>
"""


def _midi(path: Path, time_sigs: list[tuple[int, int, int]], tempos: list[tuple[int, float]], n_quarters: int) -> Path:
    score = symusic.Score(480)
    for t, num, den in time_sigs:
        score.time_signatures.append(symusic.TimeSignature(t, num, den))
    for t, qpm in tempos:
        score.tempos.append(symusic.Tempo(t, qpm))
    track = symusic.Track(program=0)
    for q in range(n_quarters):
        track.notes.append(symusic.Note(q * 480, 480, 60 + q % 12, 80))
    score.tracks.append(track)
    score.dump_midi(str(path))
    return path


def test_beat_length() -> None:
    assert beat_length(3, 4) == 1.0
    assert beat_length(6, 8) == 1.5
    assert beat_length(3, 8) == 0.5
    assert beat_length(12, 16) == 0.75
    assert beat_length(2, 2) == 2.0


def test_midi_bars_beats_with_metre_and_tempo_change(tmp_path: Path) -> None:
    # two bars of 4/4 at 120 qpm, then 6/8 at 60 qpm from quarter 8 on; 14 quarters of notes
    path = _midi(tmp_path / "s.mid", [(0, 4, 4), (8 * 480, 6, 8)], [(0, 120.0), (8 * 480, 60.0)], 14)
    s = read_score(path)
    # 4/4 bars at 0 and 2 s; 6/8 bars (3 quarters = 3 s at 60 qpm) at 4, 7 s
    np.testing.assert_allclose(s.bar_times, [0.0, 2.0, 4.0, 7.0], atol=1e-6)
    assert s.bar_numbers == ["1", "2", "3", "4"]
    assert s.time_signatures == [(0.0, 4, 4), (pytest.approx(4.0), 6, 8)]
    # 8 quarter beats of 0.5 s, then dotted-quarter beats of 1.5 s
    np.testing.assert_allclose(s.beat_times, [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5.5, 7, 8.5], atol=1e-6)
    np.testing.assert_allclose(s.notes.onset[:10], [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5], atol=1e-6)
    np.testing.assert_array_equal(s.bar_index([0.0, 1.99, 2.0, 4.5, 7.2, 100.0]), [0, 0, 1, 2, 3, 3])
    np.testing.assert_allclose(s.beat_in_bar([0.5, 2.25, 5.0, 8.5]), [1.0, 0.5, 2 / 3, 1.0], atol=1e-6)
    np.testing.assert_allclose(s.beat_position([-0.5, 9.0, 10.0]), [-1.0, 11 + 0.5 / 1.5, 11 + 1.5 / 1.5], atol=1e-6)
    np.testing.assert_allclose(s.beat_duration([0.1, 4.1]), [0.5, 1.5], atol=1e-6)


def test_midi_without_metre_is_four_four_at_120(tmp_path: Path) -> None:
    s = read_score(_midi(tmp_path / "plain.mid", [], [], 9))
    np.testing.assert_allclose(s.bar_times, [0.0, 2.0, 4.0], atol=1e-6)
    assert len(s.beat_times) == 12


def test_musicxml_repeat_unfolded_and_tempo(tmp_path: Path) -> None:
    path = tmp_path / "rep.musicxml"
    path.write_text(XML)
    s = read_score(path)
    # bars 1-2 repeated, then bar 3: C D C D E, each a dotted half at 60 qpm (3 s)
    assert s.bar_numbers == ["1", "2", "1", "2", "3"]
    np.testing.assert_array_equal(s.notes.pitch, [60, 62, 60, 62, 64])
    np.testing.assert_allclose(s.notes.onset, [0, 3, 6, 9, 12], atol=1e-6)
    np.testing.assert_allclose(s.bar_times, [0, 3, 6, 9, 12], atol=1e-6)
    np.testing.assert_allclose(s.beat_times, np.arange(15.0), atol=1e-6)
    assert s.time_signatures == [(0.0, 3, 4)]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("bad.mid", b"not midi", r"bad\.mid: not a readable MIDI file"),
        ("bad.musicxml", b"<score-partwise><oops", r"bad\.musicxml: not a readable MusicXML score"),
        ("bad.mxl", b"PK not a zip", r"bad\.mxl: not a readable MusicXML score"),
        ("empty.xml", b"", "empty"),
        ("score.pdf", b"%PDF", "unknown score format"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, match: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(PianoDataError, match=match) as err:
        read_score(p)
    assert "\n" not in str(err.value)


def test_missing_and_noteless(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match="not found"):
        read_score(tmp_path / "missing.mid")
    path = tmp_path / "silent.mid"
    score = symusic.Score(480)
    score.tracks.append(symusic.Track(program=0))
    score.dump_midi(str(path))
    with pytest.raises(PianoDataError, match="no notes"):
        read_score(path)


def test_percepiano_score_midi_and_musicxml_agree(percepiano_root: Path) -> None:
    name = "Beethoven_WoO80_var10_8bars_Score_8"
    mid = percepiano_root / "midi" / "score_midi" / f"{name}.mid"
    xml = percepiano_root / "midi" / "score_xml" / f"{name}.musicxml"
    if not (mid.is_file() and xml.is_file()):
        pytest.skip(f"{name} score files are absent")
    a, b = read_score(mid), read_score(xml)
    assert a.n_bars == b.n_bars == 8
    assert a.time_signatures == [(0.0, 3, 4)]
    np.testing.assert_allclose(a.bar_times, b.bar_times, atol=1e-3)
    np.testing.assert_allclose(a.beat_times, b.beat_times, atol=1e-3)
    assert len(a.notes) == len(b.notes)
    np.testing.assert_allclose(a.notes.onset, b.notes.onset, atol=1e-3)
    # the score MIDI's notes are exactly what the MIDI reader gives
    np.testing.assert_allclose(a.notes.onset, read_notes(mid).onset, atol=1e-4)


def test_asap_midi_score(data_root: Path) -> None:
    path = data_root / "asap" / "Bach" / "Fugue" / "bwv_848" / "midi_score.mid"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    s = read_score(path)
    assert s.time_signatures[0][1:] == (4, 4)
    assert s.n_bars >= 50
    assert s.bar_times[-1] < s.notes.onset.max() + 1e-6
    # ASAP's beat annotations of the score MIDI list the same beats (their downbeats are our bars)
    ann = np.loadtxt(path.parent / "midi_score_annotations.txt", dtype=str, delimiter="\t", usecols=(0, 2))
    times = ann[:, 0].astype(float)
    down = times[np.char.startswith(ann[:, 1], "db")]
    assert (
        np.abs(s.beat_times[np.searchsorted(s.beat_times, times).clip(0, len(s.beat_times) - 1)] - times).max() < 0.01
    )
    assert np.isin(np.round(down, 2), np.round(s.bar_times, 2)).mean() > 0.95


def test_mikrokosmos_musicxml(data_root: Path) -> None:
    path = data_root / "mikrokosmos_difficulty" / "musicxml" / "10.xml"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    s = read_score(path)
    assert len(s.notes) > 0 and s.n_bars > 4
    assert np.all(np.diff(s.bar_times) > 0) and s.bar_numbers[0] == "1"
    assert s.bar_index(s.notes.onset).max() == s.n_bars - 1
