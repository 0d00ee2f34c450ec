from __future__ import annotations

import numpy as np
import pytest
import torch
from piano_data.midi import NoteArray
from piano_symbolic.s3 import S3CurveEncoder, S3Featurizer, s3_tiny, span_mask
from symbolic_testing import pull_same_piece


def _notes(n: int, seed: int) -> NoteArray:
    rng = np.random.default_rng(seed)
    onset = np.sort(rng.random(n) * 8)
    return NoteArray.from_arrays(
        onset, onset + 0.3, rng.integers(40, 90, n), rng.integers(30, 110, n), np.array([[1, 3]])
    )


def _batch():
    cfg = s3_tiny()
    fz = S3Featurizer(cfg.fps, cfg.max_seconds)
    batch = fz.collate([fz(_notes(n, i)) for i, n in enumerate((30, 50, 20))])
    batch["group_ids"] = torch.tensor([0, 0, -1])
    return batch


def test_shapes_and_mask() -> None:
    model = S3CurveEncoder(s3_tiny()).eval()
    batch = _batch()
    with torch.no_grad():
        out = model(batch)
    t = batch["curves"].shape[1]
    assert out.frames.shape == (3, (t + 1) // 2, 512)
    assert out.mask.sum(1).tolist() == [(int(n) + 1) // 2 for n in batch["mask"].sum(1)]
    assert float(out.frames[~out.mask].abs().sum()) == 0.0


def test_long_input_chunked() -> None:
    model = S3CurveEncoder(s3_tiny()).eval()  # max_frames 64 after the stride-2 CNN
    with torch.no_grad():
        out = model({"curves": torch.rand(1, 300, 265), "mask": torch.ones(1, 300, dtype=torch.bool)})
    assert out.frames.shape == (1, 150, 512) and bool(out.mask.all())


def test_span_mask_properties() -> None:
    valid = torch.ones(4, 50, dtype=torch.bool)
    valid[1, 10:] = False
    m = span_mask(valid, 0.1, 3)
    assert not bool((m & ~valid).any())
    assert bool(m.any(1).all()) and bool(((~m) & valid).any(1).all())


def test_pretraining_loss_decreases() -> None:
    model = S3CurveEncoder(s3_tiny())
    batch = _batch()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in range(40):
        torch.manual_seed(step % 2)
        loss = model.pretraining_loss(batch, pull_same_piece)
        assert {"loss", "wav2vec_contrastive", "diversity", "contrastive"} <= set(loss)
        opt.zero_grad()
        loss["loss"].backward()
        opt.step()
        losses.append(float(loss["loss"]))
    assert np.mean(losses[-6:]) < np.mean(losses[:6]) * 0.9


def test_pinned_statistic() -> None:
    model = S3CurveEncoder(s3_tiny()).eval()
    with torch.no_grad():
        out = model(_batch())
    assert sum(p.numel() for p in model.parameters()) == 372_368
    assert float(out.frames[out.mask].mean()) == pytest.approx(0.01593, abs=1e-4)
    assert float(out.frames[out.mask].std()) == pytest.approx(0.58292, abs=1e-4)
