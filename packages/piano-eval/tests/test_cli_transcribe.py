from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from piano_data.midi import read_notes
from piano_eval.cli.main import main
from piano_eval.cli.transcribe import MODEL_CHOICES


class _Note:
    def __init__(self, start: float, end: float, pitch: int) -> None:
        self.start, self.end, self.pitch, self.velocity = start, end, pitch, 64.0
        self.hasOnset, self.hasOffset = True, True


class _FakeTranskun:
    """transkun's interface: one note (pitch 60) in the middle of each segment whose peak exceeds ``level``."""

    fs, hopSize, windowSize, targetMIDIPitch = 44_100, 1024, 4096, [-64, -67, 60]

    def __init__(self, level: float) -> None:
        self.level = level

    def transcribeFrames(
        self, frames, forcedStartPos=None, velocityCriteron="hamming", onsetBound=None, lastFrameIdx=None
    ):
        dur, mid = self.hopSize / self.fs, frames.shape[-2] // 2
        heard = float(frames.abs().max()) > self.level
        return [[_Note(mid * dur, (mid + 10) * dur, 60)] if heard else []], [mid + 10 if heard else 0, 0, 0]


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch):
    import piano_audio.transcribe

    def use(level: float) -> None:
        monkeypatch.setattr(piano_audio.transcribe, "load_transkun", lambda device="cpu": _FakeTranskun(level))

    return use


def _wav(path: Path, seconds: float, amp: float = 0.3) -> Path:
    rng = np.random.default_rng(0)
    sf.write(path, (amp * rng.uniform(-1, 1, int(seconds * 44_100))).astype(np.float32), 44_100, subtype="PCM_16")
    return path


def test_seconds_of_audio_is_the_audio_length(tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model) -> None:
    fake_model(0.1)
    out = tmp_path / "out.mid"
    assert main(["transcribe", str(_wav(tmp_path / "a.wav", 5.0)), "-o", str(out), "--threads", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["seconds_of_audio"] == 5.0  # not the last note's end
    assert report["notes"] == 1 and report["threads"] == 1 and report["model"] == "transkun"
    assert len(read_notes(out)) == 1


def test_noise_without_notes_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model) -> None:
    fake_model(10.0)  # hears no piano in white noise
    out = tmp_path / "out.mid"
    assert main(["transcribe", str(_wav(tmp_path / "noise.wav", 5.0)), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("piano-eval transcribe: error: ") and "noise.wav: no piano notes were transcribed" in err
    assert len(err.splitlines()) == 1
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["noise.wav"]


def test_truncated_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model) -> None:
    fake_model(0.1)
    data = _wav(tmp_path / "a.wav", 6.0).read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 3])
    out = tmp_path / "out.mid"
    assert main(["transcribe", str(cut), "-o", str(out)]) == 2
    assert "cut.wav: audio is truncated: it decodes to 2.0 s but its header promises 6.0 s" in capsys.readouterr().err
    assert not out.exists()
    assert main(["transcribe", str(cut), "-o", str(out), "--allow-truncated"]) == 0
    assert json.loads(capsys.readouterr().out)["seconds_of_audio"] == 2.0


def test_model_choices_are_the_libraries() -> None:
    from piano_audio.transcribe import MODELS

    assert MODEL_CHOICES == MODELS
    with pytest.raises(SystemExit):
        main(["transcribe", "x.wav", "-o", "x.mid", "--model", "nope"])
