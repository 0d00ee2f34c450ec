"""The one same-piece batch sampler every experiment's DataLoader uses."""

from __future__ import annotations

import pytest
from piano_data.tiers import SamePieceBatchSampler, pair_batches


def test_pair_batches_hold_same_group_pairs() -> None:
    groups = ["a", "a", "b", "b", "c", "c", "d", "d", "e"]
    sampler = SamePieceBatchSampler(groups, batch_size=4, seed=0)
    batches = list(iter(sampler))
    assert sorted(i for b in batches for i in b) == list(range(len(groups)))
    for batch in batches:
        names = [groups[i] for i in batch]
        assert names == ["e"] or all(names.count(g) == 2 for g in set(names))  # pairs are never split
    assert len(sampler) == len(batches)
    assert list(iter(sampler)) != batches  # reshuffled every epoch
    odd = SamePieceBatchSampler(groups, batch_size=3, seed=1)
    assert len(odd) == len(list(iter(odd)))


def test_unknown_groups_are_leftovers_and_batches_are_seeded() -> None:
    groups = ["a", "a", "b", "b", "b", None, None, "c"]
    batches = pair_batches(groups, 4, seed=3)
    assert sorted(i for b in batches for i in b) == list(range(len(groups)))
    assert [len(b) for b in batches if len(b) == 4]  # two pairs fill a batch first
    for batch in batches:
        known = [groups[i] for i in batch if groups[i] is not None]
        if len(batch) == 4 and all(g in ("a", "b") for g in known):
            assert sorted(known) == ["a", "a", "b", "b"]
    assert pair_batches(groups, 4, seed=3) == batches
    assert len(SamePieceBatchSampler(groups, 4)) == len(batches)


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_small_and_odd_batch_sizes_cover_every_index(batch_size: int) -> None:
    groups = [g for g in "aabbccd"]
    batches = pair_batches(groups, batch_size, seed=0)
    assert sorted(i for b in batches for i in b) == list(range(len(groups)))
    assert max(len(b) for b in batches) <= max(2, batch_size)
