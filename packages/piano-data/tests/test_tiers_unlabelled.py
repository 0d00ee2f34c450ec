from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from piano_data.audio_io import content_hash
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, write_notes
from piano_data.tiers import Clip, ClipConfig, read_clip_manifest, segment_unlabelled, write_clip_manifest
from piano_data.tiers.unlabelled import _spans


def _midi(path: Path, seconds: float, gap: float = 0.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onset = np.arange(0, seconds - 0.4, gap)
    return write_notes(
        NoteArray.from_arrays(onset, onset + 0.4, np.full(len(onset), 60), np.full(len(onset), 70)), path
    )


@pytest.mark.parametrize(
    ("duration", "spans"),
    [
        (50.0, [(0, 20), (15, 35), (30, 50)]),
        (45.0, [(0, 20), (15, 35), (30, 45)]),
        (12.0, [(0, 12)]),
        (9.0, []),
        (20.0, [(0, 20)]),
        (39.0, [(0, 20), (15, 35)]),
        (40.0, [(0, 20), (15, 35), (30, 40)]),
    ],
)
def test_spans_known_answer(duration: float, spans: list[tuple[float, float]]) -> None:
    assert _spans(duration, ClipConfig()) == spans


def test_clip_config_validation() -> None:
    with pytest.raises(ValueError, match=r"min_s <= clip_s <= max_s"):
        ClipConfig(clip_s=40.0)
    with pytest.raises(ValueError, match=r"hop_s"):
        ClipConfig(hop_s=0)
    assert _spans(30.0, ClipConfig(clip_s=10, hop_s=10, min_s=10)) == [(0, 10), (10, 20), (20, 30)]


def test_midi_and_audio_folders(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _midi(tmp_path / "midi" / "long.mid", 50.0)
    _midi(tmp_path / "midi" / "short.mid", 5.0)
    (tmp_path / "midi" / "broken.mid").write_bytes(b"junk")
    sr = 24000
    loud = 0.1 * np.sin(np.arange(25 * sr) / sr * 2 * np.pi * 220).astype(np.float32)
    loud[15 * sr :] = 0.0  # the second clip [15, 25) is silent
    (tmp_path / "audio").mkdir()
    sf.write(tmp_path / "audio" / "rec.wav", loud, sr)
    clips = segment_unlabelled([tmp_path], progress=False)
    by_file: dict[str, list[Clip]] = {}
    for c in clips:
        by_file.setdefault(c.path.name, []).append(c)
    assert [(c.start_s, c.end_s) for c in by_file["long.mid"]] == [(0, 20), (15, 35), (30, 49.9)]
    assert [(c.start_s, c.end_s) for c in by_file["rec.wav"]] == [(0, 20)]
    assert by_file["rec.wav"][0].kind == "audio" and by_file["long.mid"][0].kind == "midi"
    assert "short.mid" not in by_file and "broken.mid" not in by_file
    for reason in ("shorter than min_s", "unreadable", "clip without notes or silent"):
        assert reason in caplog.text
    assert not any(hasattr(c, "labels") for c in clips)


def test_exclude_hashes_keeps_labelled_data_out(tmp_path: Path) -> None:
    a = _midi(tmp_path / "a.mid", 30.0)
    _midi(tmp_path / "b.mid", 30.0, gap=0.3)
    clips = segment_unlabelled([tmp_path], exclude_hashes={content_hash(a)}, progress=False)
    assert {c.path.name for c in clips} == {"b.mid"}
    with pytest.raises(PianoDataError, match=r"matches labelled"):
        segment_unlabelled([tmp_path], exclude_hashes={content_hash(a)}, strict=True, progress=False)


def test_manifest_roundtrip_and_no_labels(tmp_path: Path) -> None:
    _midi(tmp_path / "m" / "a.mid", 30.0)
    clips = segment_unlabelled([tmp_path / "m"], progress=False)
    manifest = write_clip_manifest(clips, tmp_path / "out" / "clips.jsonl")
    assert read_clip_manifest(manifest) == clips
    rec = json.loads(manifest.read_text().splitlines()[0])
    manifest.write_text(json.dumps({**rec, "labels": [0.5] * 19}) + "\n")
    with pytest.raises(PianoDataError, match=r"carry no labels"):
        read_clip_manifest(manifest)
    manifest.write_text("{broken\n")
    with pytest.raises(PianoDataError, match=r"line 1"):
        read_clip_manifest(manifest)


def test_real_giantmidi_preview(data_root: Path) -> None:
    root = data_root / "giantmidi_subset" / "midis_preview"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    clips = segment_unlabelled([root], ClipConfig(clip_s=30, hop_s=30, min_s=10), source="giantmidi", progress=False)
    assert len({c.path for c in clips}) == 4 and len(clips) > 20
    assert all(10 <= c.duration_s <= 30 for c in clips)
