from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf
import torch
from audio_testing import tone
from piano_audio import transcribe as transcribe_module
from piano_audio.transcribe import (
    MODELS,
    default_threads,
    header_seconds,
    load_transcriber,
    transcribe,
    transcribe_audio,
    transcribe_to_midi,
    transkun_events,
)
from piano_data.errors import PianoDataError
from piano_data.midi import read_notes
from transkun.Data import Note
from transkun.ModelTransformer import TransKun


class _FakeTranskun:
    """Stands in for transkun's network: a note (pitch 60) and a pedal interval over every run of frames whose
    peak exceeds ``level``, with transkun's onset/offset flags at segment edges. Enough to drive transkun's own
    segment loop (``TransKun.transcribe``) and ours."""

    targetMIDIPitch: ClassVar[list[int]] = [-64, -67, 60]

    def __init__(self, fs: int = 44_100, hop: int = 1024, window: int = 4096, level: float = 0.05) -> None:
        self.fs, self.hopSize, self.windowSize, self.level = fs, hop, window, level
        self.calls: list[dict[str, object]] = []

    def transcribeFrames(
        self, frames, forcedStartPos=None, velocityCriteron="hamming", onsetBound=None, lastFrameIdx=None
    ):
        self.calls.append(
            {
                "frames": frames.shape[-2],
                "threads": torch.get_num_threads(),
                "inference": torch.is_inference_mode_enabled(),
            }
        )
        peak = frames.abs().amax(dim=-1).amax(dim=1)[0].numpy()  # [nFrame]
        active = np.concatenate([[False], peak > self.level, [False]])
        edges = np.flatnonzero(np.diff(active.astype(int)))
        dur = self.hopSize / self.fs
        notes, last_p = [], []
        for pitch in self.targetMIDIPitch:
            last = 0
            if pitch in (60, -64):
                for a, b in zip(edges[::2], edges[1::2], strict=True):
                    b = b - 1
                    has_on, has_off = bool(a > 0), bool(b < lastFrameIdx)
                    notes.append(Note(a * dur, b * dur, pitch, 70.0 if pitch > 0 else 127, has_on, has_off))
                    last = b if has_off else last
            last_p.append(last)
        notes.sort(key=lambda n: (n.start, n.end, n.pitch))
        return [notes], last_p


def _bursts(spans: list[tuple[float, float]], seconds: float, fs: int) -> torch.Tensor:
    x = np.zeros(int(seconds * fs), dtype=np.float32)
    for a, b in spans:
        x[int(a * fs) : int(b * fs)] = 0.5
    return torch.from_numpy(x)[:, None]


@pytest.mark.parametrize(
    ("spans", "seconds", "segment", "hop", "segments"),
    [
        ([(0.5, 1.2), (3.0, 3.5), (7.9, 8.6)], 10.5, 4.0, 3.0, (5, 4)),  # a note across a segment boundary
        ([(0.5, 1.2), (3.0, 3.5), (7.9, 8.6)], 12.0, 4.0, 3.0, (5, 5)),  # no segment of padding alone
        ([(0.0, 2.0), (5.5, 9.9)], 10.0, 4.0, 2.0, (7, 6)),  # a note longer than a segment, one up to the end
        ([(1.0, 1.5), (2.2, 2.9)], 3.0, 4.0, 2.0, (4, 3)),  # shorter than one segment
    ],
)
def test_segment_loop_finds_what_transkuns_own_loop_finds(
    spans: list[tuple[float, float]], seconds: float, segment: float, hop: float, segments: tuple[int, int]
) -> None:
    fs = 1000
    x = _bursts(spans, seconds, fs)
    theirs_net, ours_net = _FakeTranskun(fs, 10, 40), _FakeTranskun(fs, 10, 40)
    theirs = TransKun.transcribe(theirs_net, x, stepInSecond=hop, segmentSizeInSecond=segment)
    ours, n_segments = transkun_events(ours_net, x, segment, hop)
    as_rows = lambda ev: [(round(e.start, 6), round(e.end, 6), e.pitch) for e in ev]  # noqa: E731
    assert as_rows(ours) == as_rows(theirs)
    assert len([e for e in ours if e.pitch == 60]) == len(spans)
    # transkun runs on over segments of padding alone; ours stops at the last one that holds audio
    assert (len(theirs_net.calls), len(ours_net.calls)) == segments and n_segments == segments[1]


def test_events_become_a_note_array(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeTranskun()
    monkeypatch.setattr(transcribe_module, "load_transkun", lambda device="cpu": fake)
    wave = np.zeros(int(3.0 * 24_000), dtype=np.float32)
    wave[24_000:36_000] = tone(0.5)
    torch.set_num_threads(1)
    result = transcribe_audio(wave, threads=2, precision="fp32")
    assert result.audio_seconds == pytest.approx(3.0, abs=1e-3)  # the audio's length, not the last note's end
    assert result.notes.pitch.tolist() == [60] and 0.9 < result.notes.onset[0] < 1.1
    assert result.notes.velocity.tolist() == [70] and result.notes.pedal.shape == (1, 2)
    assert (result.model, result.precision, result.threads, result.segments) == ("transkun", "fp32", 2, 1)
    assert all(c["threads"] == 2 and c["inference"] for c in fake.calls)
    assert torch.get_num_threads() == 1  # the caller's setting is back


def test_no_notes_is_an_error_not_an_empty_midi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _FakeTranskun(level=10.0)  # hears nothing
    monkeypatch.setattr(transcribe_module, "load_transkun", lambda device="cpu": fake)
    noise = tmp_path / "noise.wav"
    sf.write(noise, np.random.default_rng(0).normal(0, 0.1, 5 * 44_100).astype(np.float32), 44_100)
    out = tmp_path / "x.mid"
    with pytest.raises(PianoDataError, match=r"noise.wav: no piano notes were transcribed from 5.0 s of audio"):
        transcribe_to_midi(noise, out)
    assert not out.exists() and list(tmp_path.iterdir()) == [noise]
    assert len(transcribe(noise, allow_empty=True)) == 0


def _tone_file(path: Path, seconds: float, **kwargs: object) -> Path:
    """Half a second of silence, then a decaying tone: ``seconds`` in all, at 44.1 kHz."""
    sf.write(path, np.concatenate([np.zeros(22_050, np.float32), tone(seconds - 0.5, sr=44_100)]), 44_100, **kwargs)
    return path


def test_a_truncated_wav_says_so_before_transcribing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def no_model(device: str = "cpu") -> None:
        raise AssertionError("the model must not be loaded for a truncated file")

    monkeypatch.setattr(transcribe_module, "load_transkun", no_model)
    wav = _tone_file(tmp_path / "a.wav", 8.0, subtype="PCM_16")
    assert header_seconds(wav) == pytest.approx(8.0)
    data = wav.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 4])
    assert sf.info(str(cut)).duration < 2.1  # libsndfile alone cannot tell: it counts the bytes present
    assert header_seconds(cut) == pytest.approx(8.0)
    with pytest.raises(PianoDataError, match=r"cut.wav: audio is truncated: it decodes to 2.0 s but its header"):
        transcribe(cut)
    monkeypatch.setattr(transcribe_module, "load_transkun", lambda device="cpu": _FakeTranskun())
    assert len(transcribe(cut, allow_truncated=True, precision="fp32")) == 1  # what is there is transcribed


def test_a_truncated_mp3_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(transcribe_module, "load_transkun", lambda device="cpu": _FakeTranskun())
    try:
        mp3 = _tone_file(tmp_path / "a.mp3", 10.0, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError) as exc:
        pytest.skip(f"this libsndfile cannot write MP3: {exc}")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[:10_240])  # the first 10 KB, as a broken download leaves it
    with pytest.raises(PianoDataError, match=r"cut.mp3: audio is truncated: it decodes to \d.\d s but its header"):
        transcribe(cut)


def test_header_seconds_of_other_files(tmp_path: Path) -> None:
    flac = _tone_file(tmp_path / "a.flac", 2.0)
    assert header_seconds(flac) == pytest.approx(2.0)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00")
    assert header_seconds(junk) is None


def test_default_threads_leave_busy_cores_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transcribe_module.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(transcribe_module.os, "getloadavg", lambda: (1.0, 1.0, 1.0))  # only this process
    assert default_threads() == 2
    monkeypatch.setattr(transcribe_module.os, "getloadavg", lambda: (15.0, 15.0, 15.0))  # an oversubscribed box
    assert default_threads() == 1
    monkeypatch.setattr(transcribe_module.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    monkeypatch.setattr(transcribe_module.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert default_threads() == 4


def test_options_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MODELS == ("transkun",) and 1 <= default_threads() <= 4
    with pytest.raises(PianoDataError, match="unknown transcriber 'mt3'"):
        load_transcriber("mt3")
    monkeypatch.setattr(transcribe_module, "load_transkun", lambda device="cpu": _FakeTranskun())
    with pytest.raises(PianoDataError, match="threads must be >= 1"):
        transcribe(tone(1.0), threads=0)
    with pytest.raises(PianoDataError, match="unknown precision"):
        transcribe(tone(1.0), precision="int4")  # type: ignore[arg-type]
    with pytest.raises(PianoDataError, match="hop"):
        transcribe(tone(1.0), segment_seconds=0.5, hop_seconds=1.0)


@pytest.mark.slow
def test_transcribes_a_rendered_excerpt(rendered_example: Path, tmp_path: Path) -> None:
    wave, sr = sf.read(rendered_example, dtype="float32")
    excerpt = wave[: 3 * sr]  # 3 s: one segment of its own length
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


def test_model_loads_without_training_metrics_imports() -> None:
    """transkun's model module star-imports its training metrics (mir_eval, scipy.stats: ~2.7 CPU-s); loading
    the model skips them, and transkun.Evaluation stays importable afterwards."""
    import subprocess
    import sys

    code = (
        "import sys; import piano_audio.transcribe as t; m = t.load_transkun();"
        "print('mir_eval' in sys.modules, type(m).__name__);"
        "import transkun.Evaluation as e; print(hasattr(e, 'compareTranscription'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.split() == ["False", "TransKun", "True"]
