from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_testing import tone
from piano_audio import transcribe as transcribe_module
from piano_audio.transcribe import transcribe, transcribe_to_midi
from piano_data.errors import PianoDataError
from piano_data.midi import read_notes


class _Event:
    def __init__(self, start: float, end: float, pitch: int, velocity: float) -> None:
        self.start, self.end, self.pitch, self.velocity = start, end, pitch, velocity


class _FakeTranskun:
    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def transcribe(self, x, stepInSecond=None, segmentSizeInSecond=None):
        self.shapes.append(tuple(x.shape))
        return [_Event(0.5, 0.9, 60, 80.4), _Event(0.1, 0.4, 64, 200.0), _Event(0.0, 1.5, -64, 127)]


def test_events_become_a_note_array(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeTranskun()
    monkeypatch.setattr(transcribe_module, "load_transkun", lambda device="cpu": fake)
    notes = transcribe(tone(1.0))
    assert fake.shapes == [(44_100, 1)]  # resampled to 44.1 kHz, [samples, channels]
    assert notes.pitch.tolist() == [64, 60] and notes.onset.tolist() == [0.1, 0.5]
    assert notes.velocity.tolist() == [127, 80]  # clipped to the MIDI range
    assert notes.pedal.tolist() == [[0.0, 1.5]]


@pytest.mark.slow
def test_transcribes_a_rendered_excerpt(rendered_example: Path, tmp_path: Path) -> None:
    wave, sr = sf.read(rendered_example, dtype="float32")
    excerpt = wave[: 3 * sr]  # 3 s keep the test cheap (transkun runs ~5x slower than real time on one core)
    out, notes = transcribe_to_midi(excerpt, tmp_path / "x.mid", sample_rate=sr)
    assert len(notes) >= 5
    assert notes.pitch.min() >= 21 and notes.pitch.max() <= 108
    assert np.all(np.diff(notes.onset) >= 0) and notes.onset.max() < 3.5
    assert len(read_notes(out)) == len(notes)


def test_bad_audio_is_rejected_before_transcription(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match="silent"):
        transcribe(np.zeros(48_000, dtype=np.float32))
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(PianoDataError, match="unsupported audio format"):
        transcribe(bad)
