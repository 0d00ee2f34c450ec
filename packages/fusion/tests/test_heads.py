from __future__ import annotations

import pytest
import torch
from piano_fusion import DifficultyHead, QualityHead, RankingHead, ordinal_to_level


def test_quality_in_unit_interval_for_shared_and_per_dim_z() -> None:
    head = QualityHead(16, hidden=8)
    for k in (1, 19):
        q = head(torch.randn(4, k, 16) * 100)
        assert q.shape == (4, 19) and (q >= 0).all() and (q <= 1).all()
    assert head(torch.randn(4, 16)).shape == (4, 19)
    with pytest.raises(ValueError, match="1 or 19"):
        head(torch.randn(4, 3, 16))


def test_per_dim_slots_are_used_independently() -> None:
    head = RankingHead(8, hidden=8, dropout=0.0)
    z = torch.randn(2, 19, 8)
    base = head(z)
    z2 = z.clone()
    z2[:, 5] += 1.0
    changed = (head(z2) - base).abs().sum(0) > 0
    assert changed.tolist() == [d == 5 for d in range(19)]


def test_difficulty_modes() -> None:
    assert DifficultyHead(8, hidden=8)(torch.randn(3, 1, 8)).shape == (3,)
    ordinal = DifficultyHead(8, hidden=8, mode="ordinal", n_levels=5)
    logits = ordinal(torch.randn(3, 19, 8))
    assert logits.shape == (3, 4)
    assert ordinal_to_level(torch.tensor([[3.0, 1.0, -1.0, -2.0]])).tolist() == [2]
