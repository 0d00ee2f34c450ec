from __future__ import annotations

import numpy as np
import pytest
import torch
from piano_data.midi import NoteArray
from piano_symbolic.s2 import S2Featurizer, S2GraphEncoder, s2_tiny
from symbolic_testing import pull_same_piece


def _notes(n: int, seed: int) -> NoteArray:
    rng = np.random.default_rng(seed)
    onset = np.sort(rng.integers(0, 40, n)) * 0.125
    return NoteArray.from_arrays(onset, onset + 0.25 + rng.random(n), rng.integers(40, 90, n), rng.integers(30, 110, n))


def _batch(sizes=(12, 20, 7)):
    fz = S2Featurizer(max_nodes=16)
    batch = fz.collate([fz(_notes(n, i)) for i, n in enumerate(sizes)])
    batch["group_ids"] = torch.tensor([0, 0, -1])
    return batch


def test_shapes_masks_and_truncation() -> None:
    model = S2GraphEncoder(s2_tiny()).eval()
    with torch.no_grad():
        out = model(_batch())
    assert out.frames.shape == (3, 16, 512)
    assert out.mask.sum(1).tolist() == [12, 16, 7]  # 20 notes truncated to max_nodes=16
    assert float(out.frames[2, 7:].abs().sum()) == 0.0


def test_pretraining_loss_decreases() -> None:
    model = S2GraphEncoder(s2_tiny())
    batch = _batch()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first, last = [], []
    for step in range(30):
        torch.manual_seed(step % 3)  # the same three maskings over and over
        loss = model.pretraining_loss(batch, pull_same_piece)
        assert {"loss", "masked_node", "link", "contrastive"} <= set(loss)
        opt.zero_grad()
        loss["loss"].backward()
        opt.step()
        (first if step < 6 else last).append(float(loss["loss"]))
    assert np.mean(last[-6:]) < np.mean(first) * 0.9


def test_pinned_statistic() -> None:
    model = S2GraphEncoder(s2_tiny()).eval()
    with torch.no_grad():
        out = model(_batch())
    assert sum(p.numel() for p in model.parameters()) == 365_220
    assert float(out.frames[out.mask].mean()) == pytest.approx(0.00661, abs=1e-4)
    assert float(out.frames[out.mask].std()) == pytest.approx(0.57877, abs=1e-4)
