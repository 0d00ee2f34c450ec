from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_testing import tone
from piano_audio import MuQBackbone, load_audio
from piano_data.errors import PianoDataError


def test_stereo_44k_file_is_downmixed_and_resampled(tmp_path: Path) -> None:
    stereo = np.stack([tone(1.0, sr=44_100), tone(1.0, sr=44_100, freq=330)], axis=1)
    path = tmp_path / "x.wav"
    sf.write(path, stereo, 44_100)
    with pytest.warns(UserWarning):
        wave = load_audio(path)
    assert wave.ndim == 1 and abs(len(wave) - 24_000) <= 1 and wave.dtype == np.float32


@pytest.mark.parametrize(
    ("wave", "message"),
    [
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.zeros(48_000, dtype=np.float32), "silent"),
        (np.full(48_000, 1.0, dtype=np.float32), "clipped"),
        (tone(0.1), "too short"),
        (np.full(48_000, np.nan, dtype=np.float32), "NaN"),
    ],
)
def test_bad_arrays_raise_one_line_errors(wave: np.ndarray, message: str) -> None:
    with pytest.raises(PianoDataError, match=message) as err:
        load_audio(wave)
    assert "\n" not in str(err.value)


def test_clipped_audio_can_be_allowed() -> None:
    loud = np.clip(tone(1.0, amp=3.0), -1, 1)
    assert len(load_audio(loud, allow_clipped=True)) == 24_000


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "unsupported audio format"),
        ("empty.wav", b"", "empty"),
        ("broken.wav", b"RIFF....garbage", "not a readable audio file"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PianoDataError, match=message) as err:
        load_audio(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match="not found"):
        load_audio(tmp_path / "nope.wav")


def test_backbone_encode_rejects_silence(tiny: MuQBackbone) -> None:
    with pytest.raises(PianoDataError, match="silent"):
        tiny.encode(np.zeros(24_000, dtype=np.float32))


def test_real_rendered_segment(tiny: MuQBackbone, rendered_example: Path) -> None:
    out = tiny.encode(rendered_example)
    seconds = sf.info(rendered_example).duration
    assert out.frames.shape[1] == int(seconds * 24_000) // 960
