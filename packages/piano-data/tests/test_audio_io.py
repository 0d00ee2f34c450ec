from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from piano_data import audio_io
from piano_data.audio_io import audio_duration, check_clip, content_hash, load_audio, write_audio
from piano_data.errors import PianoDataError


def test_stereo_44k_is_downmixed_and_resampled_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audio_io, "_SAID", set())
    t = np.arange(44100) / 44100
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    for i in range(3):
        sf.write(tmp_path / f"s{i}.wav", np.stack([left, left], axis=1).astype(np.float32), 44100)
    with caplog.at_level(logging.WARNING):
        outs = [load_audio(tmp_path / f"s{i}.wav") for i in range(3)]
    assert all(o.dtype == np.float32 and o.shape == (24000,) for o in outs)
    assert abs(np.sqrt(np.mean(outs[0] ** 2)) - 0.5 / np.sqrt(2)) < 0.01
    assert caplog.text.count("downmixed to mono") == 1 and caplog.text.count("resampled to") == 1


def test_window_and_duration(tmp_path: Path) -> None:
    x = np.arange(48000, dtype=np.float32) / 48000
    write_audio(tmp_path / "a.wav", x)
    assert audio_duration(tmp_path / "a.wav") == 2.0
    win = load_audio(tmp_path / "a.wav", start_s=0.5, duration_s=1.0)
    assert len(win) == 24000 and abs(win[0] - 0.25) < 1e-6
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_audio_files(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match=r"audio file not found"):
        load_audio(tmp_path / "none.wav")
    (tmp_path / "junk.wav").write_bytes(b"not audio")
    with pytest.raises(PianoDataError, match=r"junk.wav: not a readable audio file"):
        load_audio(tmp_path / "junk.wav")
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 24000)
    with pytest.raises(PianoDataError, match=r"no samples"):
        load_audio(tmp_path / "empty.wav")


def test_check_clip() -> None:
    loud = 0.1 * np.ones(24000, np.float32)
    assert check_clip(loud) is loud
    with pytest.raises(PianoDataError, match=r"too short"):
        check_clip(loud[:100], path="x.wav")
    with pytest.raises(PianoDataError, match=r"x.wav: clip is silent"):
        check_clip(np.zeros(24000, np.float32), path="x.wav")


def test_content_hash(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"abc")
    assert content_hash(tmp_path / "a") == content_hash(b"abc") == content_hash(str(tmp_path / "a"))
    assert content_hash(np.zeros(3, np.float32)) != content_hash(np.zeros(3, np.float64))
    assert len(content_hash(b"x", length=16)) == 16
