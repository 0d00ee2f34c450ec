"""Hostile input: random, truncated and bit-flipped bytes through the MIDI, MusicXML, audio and manifest readers.

Each reader either returns a value of the documented type or raises the project's one-line
:class:`~piano_data.errors.PianoDataError` naming the file; any other exception fails the test.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from piano_data.audio_io import load_audio
from piano_data.difficulty import musicxml_notes
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes, write_notes
from piano_data.tiers._manifest import read_rows
from piano_data.tiers.competition import load_competition_manifest

FUZZ = settings(
    deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _valid_midi() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        onset = np.arange(12) * 0.25
        notes = NoteArray.from_arrays(onset, onset + 0.2, 60 + np.arange(12), np.full(12, 80), np.array([[0.0, 1.0]]))
        return write_notes(notes, Path(d) / "a.mid").read_bytes()


def _valid_wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.sin(np.arange(4800) / 10.0).astype(np.float32) * 0.3, 24000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _valid_flac() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.sin(np.arange(4800) / 10.0).astype(np.float32) * 0.3, 24000, format="FLAC")
    return buf.getvalue()


_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
<part id="P1"><measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type>
</time></attributes><note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration></note>
<note><pitch><step>E</step><octave>4</octave></pitch><duration>2</duration></note></measure></part></score-partwise>
"""

VALID = {".mid": _valid_midi(), ".wav": _valid_wav(), ".flac": _valid_flac(), ".musicxml": _XML}


def _mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, the valid file cut anywhere, or the valid file with a few bytes overwritten."""
    cut = st.integers(0, len(valid)).map(lambda n: valid[:n])
    flips = st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)), min_size=1, max_size=8).map(
        lambda edits: _apply(valid, edits)
    )
    return st.one_of(st.binary(max_size=2048), cut, flips)


def _apply(valid: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(valid)
    for i, v in edits:
        b[i] = v
    return bytes(b)


def _write(data: bytes, suffix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix="fuzz-"))
    p = d / f"input{suffix}"
    p.write_bytes(data)
    return p


def test_valid_inputs_read() -> None:  # the mutations start from files that do read
    assert len(read_notes(_write(VALID[".mid"], ".mid"))) == 12
    assert len(load_audio(_write(VALID[".wav"], ".wav"))) == 4800
    assert len(load_audio(_write(VALID[".flac"], ".flac"))) == 4800
    assert len(musicxml_notes(_write(VALID[".musicxml"], ".musicxml"))) == 2


@FUZZ
@given(data=_mutations(VALID[".mid"]))
def test_midi_reader_only_raises_piano_data_error(data: bytes) -> None:
    path = _write(data, ".mid")
    try:
        notes = read_notes(path)
    except PianoDataError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert len(notes) > 0 and np.all(np.isfinite(notes.onset)) and np.all(notes.offset >= notes.onset)


@FUZZ
@given(data=_mutations(VALID[".musicxml"]))
def test_musicxml_reader_only_raises_piano_data_error(data: bytes) -> None:
    path = _write(data, ".musicxml")
    try:
        notes = musicxml_notes(path)
    except PianoDataError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert isinstance(notes, NoteArray)


@FUZZ
@pytest.mark.parametrize("suffix", [".wav", ".flac"])
@given(data=st.data())
def test_audio_reader_only_raises_piano_data_error(suffix: str, data: st.DataObject) -> None:
    path = _write(data.draw(_mutations(VALID[suffix])), suffix)
    try:
        audio = load_audio(path)
    except PianoDataError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert audio.dtype == np.float32 and audio.ndim == 1 and len(audio) > 0 and np.isfinite(audio).all()


_CSV = (
    b"recording_id,competition,round,placement,piece,performer,audio_path\n"
    b"r1,chopin2015,final,1,Op. 10,Ann,a.wav\nr2,chopin2015,final,2nd,Op. 10,Bo,b.wav\n"
)
_JSON = json.dumps(
    [
        {"recording_id": "r1", "competition": "c", "round": "f", "placement": "1", "piece": "p", "performer": "a"},
        {"recording_id": "r2", "competition": "c", "round": "f", "placement": "2", "piece": "p", "performer": "b"},
    ]
).encode()


@FUZZ
@pytest.mark.parametrize(("suffix", "valid"), [(".csv", _CSV), (".json", _JSON)])
@given(data=st.data())
def test_manifest_readers_only_raise_piano_data_error(suffix: str, valid: bytes, data: st.DataObject) -> None:
    path = _write(data.draw(_mutations(valid)), suffix)
    try:
        rows = read_rows(path)
    except PianoDataError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for r in rows for k, v in r.items())
    try:
        load_competition_manifest(path, require_audio=False)
    except PianoDataError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


@pytest.mark.parametrize(("fmt", "subtype"), [("WAV", "PCM_16"), ("MP3", "MPEG_LAYER_III")])
def test_truncated_audio_says_so(tmp_path: Path, fmt: str, subtype: str) -> None:
    noise = (np.random.default_rng(0).standard_normal(24000 * 5) * 0.1).astype(np.float32)  # 5 s
    buf = io.BytesIO()
    try:
        sf.write(buf, noise, 24000, format=fmt, subtype=subtype)
    except (sf.LibsndfileError, ValueError, TypeError):
        pytest.skip(f"this libsndfile cannot write {fmt}")
    whole = tmp_path / f"whole.{fmt.lower()}"
    whole.write_bytes(buf.getvalue())
    assert abs(len(load_audio(whole)) - len(noise)) < 2400  # the whole file reads (mp3 adds codec delay)
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    with pytest.raises(PianoDataError, match=r"cut\.\w+: audio is truncated: its header promises 5\.\d+ s, only"):
        load_audio(cut)
    assert len(load_audio(cut, duration_s=0.5)) == 12000  # a span that is there still reads


def test_deeply_nested_json_manifest_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b"[" * 100_000)
    with pytest.raises(PianoDataError, match=r"m\.json"):
        read_rows(path)
