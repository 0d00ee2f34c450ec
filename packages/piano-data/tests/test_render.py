from __future__ import annotations

import itertools
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
    shutil.which("fluidsynth") is None,
    reason="the fluidsynth CLI is not installed (apt-get install fluidsynth); the default tinysoundfont path is tested",
)


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The generated soundfont goes to a cache of this test session, not the user's."""
    monkeypatch.setenv("PIANO_EVAL_CACHE", str(tmp_path_factory.getbasetemp() / "cache-root"))


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
    monkeypatch.setenv("PATH", str(tmp_path))  # no fluidsynth
    with pytest.raises(PianoDataError, match=r"not installed: apt-get install fluid-soundfont-gm"):
        find_soundfont("fluidr3")
    with pytest.raises(PianoDataError, match=r"needs the fluidsynth CLI: apt-get install fluidsynth"):
        find_soundfont("timgm6mb+fluidsynth")
    assert set(available_soundfonts()) == {"timgm6mb", "additive_piano"}  # what PyPI packages bring
    with pytest.raises(PianoDataError, match=r"soundfont file not found"):
        Soundfont.from_path(tmp_path / "x.sf2")


def test_soundfont_dirs_env_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "TimGM6mb.sf2"
    fake.write_bytes(b"RIFF" + b"\0" * 4 + b"sfbk" + b"\0" * 100)
    monkeypatch.setenv("PIANO_SOUNDFONT_DIRS", str(tmp_path))
    sfont = find_soundfont("timgm6mb")
    assert sfont.path == fake.resolve() and sfont.name == "timgm6mb" and len(sfont.fingerprint) == 16


@pytest.mark.parametrize(
    "name", ["timgm6mb", "additive_piano", pytest.param("timgm6mb+fluidsynth", marks=needs_fluidsynth)]
)
def test_render_is_mono_24k_trimmed_and_cached(tmp_path: Path, name: str) -> None:
    midi = _midi(tmp_path / "a.mid")
    first = render_midi(midi, name, tmp_path / "cache")
    assert not first.cached and first.soundfont == name
    info = sf.info(str(first.path))
    assert (info.samplerate, info.channels, info.subtype) == (24000, 1, "FLOAT")
    assert 1.2 < first.seconds < 3.5  # 1.45 s of notes + release + 0.25 s pad, no long silent tail
    second = render_midi(midi, name, tmp_path / "cache")
    assert second.cached and second.path == first.path
    other = render_midi(midi, name, tmp_path / "cache", RenderConfig(gain=0.5))
    assert other.path != first.path  # the settings are part of the key
    assert not list((tmp_path / "cache").rglob("*.tmp"))


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


def test_render_missing_soundfont_raises_before_work(tmp_path: Path) -> None:
    seg = _segment(_midi(tmp_path / "a.mid"))
    with pytest.raises(PianoDataError, match=r"unknown soundfont"):
        render_segments([seg], ["timgm6mb", "steinway"], tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache").exists()


def test_render_empty_midi_is_clear_error(tmp_path: Path) -> None:
    empty = write_notes(NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)), tmp_path / "e.mid")
    with pytest.raises(PianoDataError, match=r"no piano notes"):
        render_midi(empty, "timgm6mb", tmp_path / "cache")


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


def test_render_real_asap_performance(data_root: Path, tmp_path: Path) -> None:
    from piano_data.tiers import load_asap

    if not (data_root / "asap" / "metadata.csv").is_file():
        pytest.skip("ASAP is absent")
    perf = min(load_asap(data_root / "asap"), key=lambda p: p.midi_path.stat().st_size)  # type: ignore[union-attr]
    [seg] = render_segments([perf.to_segment()], ["timgm6mb"], tmp_path, progress=False)
    assert seg.extra["soundfont"] == "timgm6mb" and seg.source == "asap" and seg.audio_path.is_file()  # type: ignore[union-attr]


def _rms(path: Path) -> float:
    audio, _ = sf.read(str(path), dtype="float64")
    return float(np.sqrt(np.mean(audio**2)))


def test_bare_machine_renders_two_soundfonts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Debian soundfont folders and no fluidsynth on PATH: the default pair still renders, two timbres."""
    from piano_data.soundfonts import DEFAULT_SOUNDFONTS

    monkeypatch.setattr(sfmod, "_SYSTEM_DIRS", ())
    monkeypatch.delenv("PIANO_SOUNDFONT_DIRS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("PIANO_EVAL_CACHE", str(tmp_path / "cache-root"))
    assert shutil.which("fluidsynth") is None
    seg = _segment(_midi(tmp_path / "a.mid", n=8))
    report = render_all([seg], list(DEFAULT_SOUNDFONTS), tmp_path / "render", progress=False)
    assert [s.extra["soundfont"] for s in report.segments] == list(DEFAULT_SOUNDFONTS) and not report.skipped
    a, b = (sf.read(str(s.audio_path), dtype="float32")[0] for s in report.segments)
    assert np.isfinite(a).all() and np.isfinite(b).all() and a.std() > 1e-3 and b.std() > 1e-3
    n = min(len(a), len(b))
    assert abs(np.corrcoef(a[:n], b[:n])[0, 1]) < 0.9  # different instruments, not one file twice
    assert (tmp_path / "cache-root" / "soundfonts").is_dir()  # the generated soundfont went to the cache root
    assert find_soundfont("timgm6mb").path.parent.name == "pretty_midi"  # the wheel's copy


@pytest.mark.parametrize("name", ["timgm6mb", "additive_piano"])
def test_velocity_sets_the_level(tmp_path: Path, name: str) -> None:
    onset = np.arange(6) * 0.3
    levels = []
    for v in (20, 40, 80, 110):
        notes = NoteArray.from_arrays(onset, onset + 0.25, 60 + np.arange(6), np.full(6, v))
        levels.append(_rms(render_midi(write_notes(notes, tmp_path / f"v{v}.mid"), name, tmp_path / "cache").path))
    assert all(b > 1.15 * a for a, b in itertools.pairwise(levels)), levels  # louder at every step
    assert 1.5 < levels[3] / levels[1] < 12.0, levels  # 110 vs 40: TinySoundFont's level is linear in velocity


def test_sustain_pedal_lengthens_notes(tmp_path: Path) -> None:
    onset = np.array([0.0, 0.2])
    dry = NoteArray.from_arrays(onset, onset + 0.1, np.array([60, 64]), np.array([90, 90]))
    wet = NoteArray.from_arrays(onset, onset + 0.1, np.array([60, 64]), np.array([90, 90]), np.array([[0.0, 2.0]]))
    r_dry = render_midi(write_notes(dry, tmp_path / "dry.mid"), "additive_piano", tmp_path / "cache")
    r_wet = render_midi(write_notes(wet, tmp_path / "wet.mid"), "additive_piano", tmp_path / "cache")
    assert r_dry.seconds < 1.0 and r_wet.seconds > 1.8  # dry: last note-off at 0.3 s, then its release tail


def test_sustained_offsets_known_answer() -> None:
    from piano_data.render import sustained_offsets

    notes = NoteArray.from_arrays(
        np.array([0.0, 0.5, 1.0, 3.0]),
        np.array([0.3, 0.7, 1.2, 3.5]),
        np.array([60, 62, 60, 64]),
        np.full(4, 80),
        np.array([[0.2, 2.0]]),
    )
    # 60 held by the pedal until the same key is struck again at 1.0; 62 and the second 60 until the pedal
    # comes up at 2.0; 64 is played after the pedal and keeps its own offset
    assert sustained_offsets(notes).tolist() == [1.0, 2.0, 2.0, 3.5]


def test_additive_soundfont_is_deterministic_and_in_tune(tmp_path: Path) -> None:
    from piano_data import sf2_piano

    first = sf2_piano.additive_piano_sf2()
    sf2_piano.additive_piano_sf2.cache_clear()
    assert sf2_piano.additive_piano_sf2() == first  # same bytes from a fresh synthesis
    assert first[:4] == b"RIFF" and first[8:12] == b"sfbk" and int.from_bytes(first[4:8], "little") == len(first) - 8
    onset = np.array([0.0])
    midi = write_notes(NoteArray.from_arrays(onset, onset + 1.5, np.array([69]), np.array([100])), tmp_path / "a.mid")
    audio, sr = sf.read(str(render_midi(midi, "additive_piano", tmp_path / "cache").path), dtype="float64")
    window = audio[int(0.1 * sr) : int(1.1 * sr)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    assert abs(np.argmax(spectrum) * sr / len(window) - 440.0) <= 2.0  # A4


def test_not_a_soundfont_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "junk.sf2"
    fake.write_bytes(b"definitely not a soundfont")
    with pytest.raises(PianoDataError, match=r"junk.sf2.*no RIFF sfbk header"):
        find_soundfont(str(fake))


def _yin_f0(audio: np.ndarray, sr: int, fmin: float = 60.0, fmax: float = 1400.0) -> float:
    """Fundamental frequency of a steady tone by YIN (cumulative-mean-normalised difference, first dip under
    0.1, else the global minimum; parabolic interpolation)."""
    x = audio - audio.mean()
    lo, hi = int(sr / fmax), int(sr / fmin) + 1
    n = len(x) - hi
    diff = np.array([np.sum((x[:n] - x[tau : tau + n]) ** 2) for tau in range(hi + 1)])
    cmnd = np.ones_like(diff)
    cmnd[1:] = diff[1:] * np.arange(1, hi + 1) / np.maximum(np.cumsum(diff[1:]), 1e-12)
    under = np.flatnonzero(cmnd[lo:hi] < 0.1)
    if len(under):
        tau = lo + int(under[0])
        while tau + 1 < hi and cmnd[tau + 1] < cmnd[tau]:  # walk down to the bottom of that dip
            tau += 1
    else:
        tau = lo + int(np.argmin(cmnd[lo:hi]))
    a, b, c = cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    return sr / (tau + shift)


@pytest.mark.parametrize("name", ["timgm6mb", "additive_piano"])
@pytest.mark.parametrize("sample_rate", [24000, 44100])
def test_default_soundfonts_render_in_tune(tmp_path: Path, name: str, sample_rate: int) -> None:
    """Each default (wheel-only) soundfont plays every pitch at that pitch, at either sample rate: a single
    note's YIN f0 is within half a semitone of the MIDI key (symusic 0.5 played TimGM6mb 4-23 semitones off)."""
    cfg = RenderConfig(sample_rate=sample_rate)
    for pitch in (40, 57, 69, 84):
        notes = NoteArray.from_arrays(np.array([0.0]), np.array([1.0]), np.array([pitch]), np.array([90]))
        midi = write_notes(notes, tmp_path / f"{pitch}.mid")
        audio, sr = sf.read(str(render_midi(midi, name, tmp_path / "cache", cfg).path), dtype="float64")
        assert sr == sample_rate
        f0 = _yin_f0(audio[int(0.15 * sr) : int(0.45 * sr)], sr)
        semitones = 12 * np.log2(f0 / (440.0 * 2 ** ((pitch - 69) / 12)))
        assert abs(semitones) < 0.5, f"{name} MIDI {pitch} sounds at {f0:.1f} Hz ({semitones:+.2f} semitones)"
