from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from piano_data.cache import CacheKey, EmbeddingCache
from piano_data.contracts import N_DIMS
from piano_data.datasets import (
    AudioFeatures,
    CachedFeatures,
    ClipDataset,
    LabelledDataset,
    TierMixer,
    collate_tiers,
)
from piano_data.errors import PianoDataError
from piano_data.samples import Segment
from piano_data.tiers import Clip
from torch.utils.data import DataLoader

DATA = Path(__file__).parent / "data"
SR = 24000


class LengthFeatures:
    """[T, 4] frames whose length is encoded in the key (picklable, for workers)."""

    def __call__(self, record: object) -> np.ndarray:
        digits = "".join(ch for ch in str(getattr(record, "key", "3")) if ch.isdigit()) or "3"
        n = int(digits[-2:]) % 7 + 2
        return np.full((n, 4), float(n), dtype=np.float32)


def _segments(n: int = 6) -> list[Segment]:
    return [
        Segment(
            key=f"p_{i}",
            midi_path=Path("x.mid"),
            piece=f"piece{i % 2}",
            segment="1",
            player=str(i),
            work="w",
            labels=np.full(N_DIMS, i / 10),
        )
        for i in range(n)
    ]


def test_collate_pads_and_masks_known_answer() -> None:
    items = [
        {"tier": 1, "x": torch.ones(2, 3), "labels": torch.zeros(N_DIMS), "key": "a", "flag": True},
        {"tier": 1, "x": torch.ones(4, 3) * 2, "labels": torch.ones(N_DIMS), "key": "b", "flag": False},
    ]
    batch = collate_tiers(items)
    assert batch["x"].shape == (2, 4, 3)
    assert batch["mask"].tolist() == [[True, True, False, False], [True, True, True, True]]
    assert batch["length"].tolist() == [2, 4] and batch["x"][0, 2:].abs().sum() == 0
    assert batch["labels"].shape == (2, N_DIMS) and batch["key"] == ["a", "b"]
    assert batch["flag"].tolist() == [True, False] and batch["tier"].tolist() == [1, 1]
    tokens = collate_tiers([{"tier": 4, "x": torch.tensor([5, 6, 7])}, {"tier": 4, "x": torch.tensor([8])}])
    assert tokens["x"].dtype == torch.long and tokens["x"].tolist() == [[5, 6, 7], [8, 0, 0]]
    with pytest.raises(ValueError, match=r"several tiers"):
        collate_tiers([{"tier": 1, "x": torch.ones(1)}, {"tier": 4, "x": torch.ones(1)}])


def test_t1_labelled_batches_with_workers() -> None:
    ds = LabelledDataset(_segments(), LengthFeatures())
    loader = DataLoader(ds, batch_size=3, collate_fn=collate_tiers, num_workers=2)
    batches = list(loader)
    assert [b["x"].shape[0] for b in batches] == [3, 3]
    b = batches[0]
    assert b["labels"].shape == (3, N_DIMS) and b["mask"].sum(1).tolist() == b["length"].tolist()
    assert b["group"] == ["piece0_1", "piece1_1", "piece0_1"]
    unlabelled = Segment(key="u", midi_path=Path("x.mid"), piece="p", segment="1", player="a", work="w")
    with pytest.raises(ValueError, match=r"needs labels"):
        LabelledDataset([unlabelled], LengthFeatures())


def test_t4_clips_from_cache_with_workers(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache")
    clips = [Clip(f"c_{i}", tmp_path / "x.mid", "midi", 0.0, 20.0, "t", f"h{i}") for i in range(8)]
    for i, c in enumerate(clips[:7]):
        cache.put(_clip_key(c), np.full((i + 1, 8), i, np.float32))
    loader = DataLoader(
        ClipDataset(clips, CachedFeatures(cache, _clip_key)),
        batch_size=4,
        num_workers=2,
        collate_fn=collate_tiers,
    )
    batches = list(loader)
    assert [b["x"].shape for b in batches] == [(4, 4, 8), (3, 7, 8)]  # c_7 has no entry: dropped, said once
    assert set(batches[0]) == {"tier", "x", "mask", "length", "key"}  # no label of any kind in T4


def _clip_key(c: Clip) -> CacheKey:
    return CacheKey(c.content_hash, "enc")


def test_t4_audio_clip_span(tmp_path: Path) -> None:
    sr_audio = np.arange(3 * SR, dtype=np.float32) / (3 * SR)
    sf.write(tmp_path / "a.wav", sr_audio, SR, subtype="FLOAT")
    clip = Clip("a@1", tmp_path / "a.wav", "audio", 1.0, 2.0, "t", "h")
    x = AudioFeatures()(clip)
    assert len(x) == SR and abs(x[0] - 1 / 3) < 1e-4


def test_missing_audio_is_skipped_not_a_worker_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sf.write(tmp_path / "ok.wav", 0.1 * np.ones(SR // 2, np.float32), SR)
    segments = _segments()[:3]
    segments = [
        replace(segments[0], audio_path=tmp_path / "ok.wav"),
        replace(segments[1], audio_path=tmp_path / "gone.wav"),
        replace(segments[2], audio_path=None),
    ]
    ds = LabelledDataset(segments, AudioFeatures())
    batch = collate_tiers([ds[i] for i in range(3)])
    assert batch["x"].shape[0] == 1
    assert "audio file not found" in caplog.text and "no audio_path" in caplog.text
    with pytest.raises(PianoDataError, match=r"every item of a batch"):
        collate_tiers([ds[1], ds[2]])


def test_silent_and_too_short_clips_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sf.write(tmp_path / "ok.wav", 0.1 * np.ones(SR, np.float32), SR)
    sf.write(tmp_path / "silent.wav", np.zeros(SR, np.float32), SR)
    sf.write(tmp_path / "short.wav", 0.1 * np.ones(SR // 10, np.float32), SR)
    clips = [Clip(n, tmp_path / f"{n}.wav", "audio", 0.0, 1.0, "t", n) for n in ("ok", "silent", "short")]
    batch = collate_tiers([ClipDataset(clips, AudioFeatures())[i] for i in range(3)])
    assert batch["key"] == ["ok"]
    assert "clip is silent" in caplog.text and "clip too short" in caplog.text


def test_tier_mixer_one_loop_over_all_tiers() -> None:
    feats = LengthFeatures()
    clips = [Clip(f"c_{i}", Path("x"), "midi", 0.0, 20.0, "t", "h") for i in range(5)]
    loaders = {
        "t1": DataLoader(LabelledDataset(_segments(), feats), batch_size=2, collate_fn=collate_tiers),
        "t4": DataLoader(ClipDataset(clips, feats), batch_size=2, collate_fn=collate_tiers),
    }
    mixer = TierMixer(loaders, {"t1": 3.0, "t4": 1.0}, steps=40, seed=1)
    seen = {name: 0 for name in loaders}
    for name, batch in mixer:
        seen[name] += 1
        assert int(batch["tier"][0]) == int(name[1])
        assert ("labels" in batch) == (name == "t1")
    assert len(mixer) == 40 and all(v > 0 for v in seen.values()) and seen["t1"] > seen["t4"]
    assert [n for n, _ in TierMixer(loaders, steps=10, seed=1)] == [n for n, _ in TierMixer(loaders, steps=10, seed=1)]
    with pytest.raises(ValueError, match=r"non-negative"):
        TierMixer(loaders, {"t1": -1.0})
