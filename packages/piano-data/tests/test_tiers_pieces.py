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


def test_pair_subset_takes_pairs_from_many_groups() -> None:
    from piano_data.tiers import pair_subset

    groups = [g for g in "aaaabbbbccccddde"]
    chosen = pair_subset(groups, 6, seed=0)
    assert len(chosen) == 6 == len(set(chosen))
    names = [groups[i] for i in chosen]
    # two members of each group visited (one of the single-member group 'e'), only the last one may be cut short
    full = [g for g in dict.fromkeys(names) if names.count(g) == min(2, groups.count(g))]
    assert len(full) >= len(set(names)) - 1 and len(set(names)) <= 4
    assert pair_subset(groups, 6, seed=0) == chosen
    assert pair_subset(groups, None, seed=0) == list(range(len(groups)))
    assert pair_subset(groups, 99, seed=0) == list(range(len(groups)))
    assert len(pair_subset(groups, 5, seed=1)) == 5


@pytest.mark.parametrize(("n_groups", "world"), [(12, 2), (9, 2), (7, 3), (1, 2)])
def test_sharded_batches_are_the_single_process_batches_split(n_groups: int, world: int) -> None:
    """Each of ``world`` processes with batch 4 sees as many batches, and together exactly the batches one
    process sees with batch ``4 * world``; pairs stay on one process."""
    groups = [f"g{k // 2}" for k in range(2 * n_groups)] + [None]
    single = list(SamePieceBatchSampler(groups, 4 * world, seed=5))
    shards = [SamePieceBatchSampler(groups, 4, seed=5, num_replicas=world, rank=r) for r in range(world)]
    per_rank = [list(s) for s in shards]
    assert all(len(s) == len(single) for s in shards) and all(len(b) == len(single) for b in per_rank)
    for k, batch in enumerate(single):
        parts = [per_rank[r][k] for r in range(world)]
        assert all(parts)
        if len(batch) >= world:
            assert [i for p in parts for i in p] == batch
        for part in parts:
            names = [groups[i] for i in part if groups[i] is not None]
            assert len(batch) < 2 * world or all(names.count(g) == 2 for g in set(names))
