from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from piano_data import soundfonts as sfmod
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, write_notes
from piano_data.render import (
    RenderConfig,
    render_all,
    render_clips,
    render_midi,
    render_segments,
    trim_silent_tail,
)
from piano_data.samples import Segment
from piano_data.soundfonts import Soundfont, available_soundfonts, find_soundfont

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or "timgm6mb" not in available_soundfonts(),
    reason="fluidsynth / timgm6mb-soundfont not installed (apt-get install fluidsynth timgm6mb-soundfont)",
)


def _midi(path: Path, n: int = 6, gap: float = 0.25) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onset = np.arange(n) * gap
    return write_notes(NoteArray.from_arrays(onset, onset + 0.2, 60 + np.arange(n), np.full(n, 80)), path)


def _segment(midi: Path, key: str = "seg") -> Segment:
    return Segment(key=key, midi_path=midi, piece="p", segment="1", player="a", work="w")


def test_trim_silent_tail_known_answer() -> None:
    sr = 100
    audio = np.zeros(1000, dtype=np.float32)
    audio[:300] = 0.5
    audio[300:400] = 1e-5  # -94 dB below the peak: silence
    out = trim_silent_tail(audio, sr, trim_db=-60, pad_s=0.5)
    assert len(out) == 300 + 50
    assert len(trim_silent_tail(np.zeros(10, np.float32), sr)) == 0


def test_unknown_and_missing_soundfont_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match=r"unknown soundfont 'nope'"):
        find_soundfont("nope")
    monkeypatch.setattr(sfmod, "_SYSTEM_DIRS", ())
    monkeypatch.setenv("PIANO_SOUNDFONT_DIRS", str(tmp_path))
    with pytest.raises(PianoDataError, match=r"not installed: apt-get install fluid-soundfont-gm"):
        find_soundfont("fluidr3")
    assert available_soundfonts() == {}
    with pytest.raises(PianoDataError, match=r"soundfont file not found"):
        Soundfont.from_path(tmp_path / "x.sf2")


def test_soundfont_dirs_env_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "TimGM6mb.sf2"
    fake.write_bytes(b"RIFF" + b"\0" * 100)
    monkeypatch.setenv("PIANO_SOUNDFONT_DIRS", str(tmp_path))
    sfont = find_soundfont("timgm6mb")
    assert sfont.path == fake.resolve() and sfont.name == "timgm6mb" and len(sfont.fingerprint) == 16


@needs_fluidsynth
def test_render_is_mono_24k_trimmed_and_cached(tmp_path: Path) -> None:
    midi = _midi(tmp_path / "a.mid")
    first = render_midi(midi, "timgm6mb", tmp_path / "cache")
    assert not first.cached and first.soundfont == "timgm6mb"
    info = sf.info(str(first.path))
    assert (info.samplerate, info.channels, info.subtype) == (24000, 1, "FLOAT")
    assert 1.2 < first.seconds < 3.5  # 1.45 s of notes + release + 0.25 s pad, no long silent tail
    second = render_midi(midi, "timgm6mb", tmp_path / "cache")
    assert second.cached and second.path == first.path
    other = render_midi(midi, "timgm6mb", tmp_path / "cache", RenderConfig(gain=0.5))
    assert other.path != first.path  # the settings are part of the key
    assert not list((tmp_path / "cache").rglob("*.tmp"))


@needs_fluidsynth
def test_render_segments_records_soundfont_and_skips_bad_midi(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = _segment(_midi(tmp_path / "good.mid"), "good")
    bad_path = tmp_path / "bad.mid"
    bad_path.write_bytes(b"not midi")
    bad = _segment(bad_path, "bad")
    report = render_all([good, bad], ["timgm6mb"], tmp_path / "cache", progress=False)
    assert [s.key for s in report.segments] == ["good@timgm6mb"] and report.segments[0].extra["base_key"] == "good"
    assert report.segments[0].extra["soundfont"] == "timgm6mb" and report.segments[0].audio_path is not None
    assert len(report.skipped) == 1 and "not a readable MIDI" in report.skipped[0][1]
    assert "skipped 1 of 2" in caplog.text
    with pytest.raises(PianoDataError, match=r"bad.mid"):
        render_segments([bad], ["timgm6mb"], tmp_path / "cache", strict=True, progress=False)


@needs_fluidsynth
def test_render_missing_soundfont_raises_before_work(tmp_path: Path) -> None:
    seg = _segment(_midi(tmp_path / "a.mid"))
    with pytest.raises(PianoDataError, match=r"unknown soundfont"):
        render_segments([seg], ["timgm6mb", "steinway"], tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache").exists()


@needs_fluidsynth
def test_render_empty_midi_is_clear_error(tmp_path: Path) -> None:
    empty = write_notes(NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)), tmp_path / "e.mid")
    with pytest.raises(PianoDataError, match=r"silent"):
        render_midi(empty, "timgm6mb", tmp_path / "cache")


@needs_fluidsynth
@pytest.mark.parametrize("name", ["Beethoven_WoO80_var27_8bars_3_15.mid", "Schubert_D960_mv3_8bars_10_01.mid"])
def test_render_real_percepiano_segment(data_root: Path, tmp_path: Path, name: str) -> None:
    midi = data_root / "percepiano" / "midi" / "all_2rounds" / name
    if not midi.is_file():
        pytest.skip(f"{midi} is absent")
    res = render_midi(midi, "timgm6mb", tmp_path)
    audio, sr = sf.read(str(res.path), dtype="float32")
    assert sr == 24000 and audio.ndim == 1 and np.isfinite(audio).all()
    assert 0.01 < np.abs(audio).max() < 1.0
    assert 3.0 < res.seconds < 20.0


@needs_fluidsynth
def test_render_clips_turns_midi_clips_into_audio_spans(tmp_path: Path) -> None:
    from piano_data.audio_io import load_audio
    from piano_data.tiers import ClipConfig, segment_unlabelled

    _midi(tmp_path / "m" / "a.mid", n=24, gap=0.5)  # 12 s of notes
    (tmp_path / "m" / "b.mid").write_bytes(b"junk")
    clips = segment_unlabelled([tmp_path / "m"], ClipConfig(clip_s=6, hop_s=4, min_s=3, max_s=30), progress=False)
    audio_clips = render_clips(clips, ["timgm6mb"], tmp_path / "cache", progress=False)
    assert len(audio_clips) == len(clips) == 3
    assert all(c.kind == "audio" and c.key.endswith("@timgm6mb") and c.path.suffix == ".wav" for c in audio_clips)
    assert len({c.path for c in audio_clips}) == 1  # rendered once, cut three times
    assert len(load_audio(audio_clips[0].path, start_s=0.0, duration_s=audio_clips[0].duration_s)) == 6 * 24000


@needs_fluidsynth
def test_render_real_asap_performance(data_root: Path, tmp_path: Path) -> None:
    from piano_data.tiers import load_asap

    if not (data_root / "asap" / "metadata.csv").is_file():
        pytest.skip("ASAP is absent")
    perf = min(load_asap(data_root / "asap"), key=lambda p: p.midi_path.stat().st_size)  # type: ignore[union-attr]
    [seg] = render_segments([perf.to_segment()], ["timgm6mb"], tmp_path, progress=False)
    assert seg.extra["soundfont"] == "timgm6mb" and seg.source == "asap" and seg.audio_path.is_file()  # type: ignore[union-attr]
