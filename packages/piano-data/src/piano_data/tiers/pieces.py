"""The piece index across corpora, the sampler of same-piece, different-performer pairs (T3 positives) and
the one batch sampler that puts same-piece pairs into training batches.

Performances of every corpus are grouped by :attr:`Performance.piece`; a pair is two performances of one
piece by different performers. These are the positives of cross-performer contrastive learning and the
candidates of performance ranking. :class:`SamePieceBatchSampler` is what every experiment's ``DataLoader``
uses (``batch_sampler=``) so that its contrastive and ranking losses see same-piece pairs in each batch.
"""

from __future__ import annotations

import random
import sys
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from itertools import combinations, pairwise
from typing import Literal

import numpy as np

from piano_data.tiers.performance import Performance

__all__ = [
    "PieceIndex",
    "SamePieceBatchSampler",
    "SamePiecePairSampler",
    "pair_batches",
    "pair_subset",
    "same_piece_pairs",
]


class PieceIndex:
    """Performances grouped by piece, in first-seen order; pieces with fewer than two performers give no
    pairs."""

    def __init__(self, performances: Iterable[Performance]) -> None:
        self.pieces: dict[str, list[Performance]] = defaultdict(list)
        for p in performances:
            self.pieces[p.piece].append(p)
        self.pieces = dict(self.pieces)

    def __len__(self) -> int:
        return len(self.pieces)

    def __getitem__(self, piece: str) -> list[Performance]:
        return self.pieces[piece]

    @property
    def n_performances(self) -> int:
        return sum(len(v) for v in self.pieces.values())

    def pair_count(self, piece: str | None = None) -> int:
        """Unordered same-piece, different-performer pairs (of one piece, or of all)."""
        if piece is None:
            return sum(self.pair_count(k) for k in self.pieces)
        counts = Counter(p.performer for p in self.pieces[piece])
        n = sum(counts.values())
        return (n * (n - 1) - sum(c * (c - 1) for c in counts.values())) // 2

    def paired_pieces(self) -> list[str]:
        """Pieces with at least one pair."""
        return [k for k in self.pieces if self.pair_count(k) > 0]

    def summary(self) -> dict[str, object]:
        return {
            "performances": self.n_performances,
            "pieces": len(self),
            "pieces_with_pairs": len(self.paired_pieces()),
            "same_piece_pairs": self.pair_count(),
            "sources": dict(Counter(p.source for v in self.pieces.values() for p in v)),
        }


def same_piece_pairs(index: PieceIndex) -> list[tuple[Performance, Performance]]:
    """Every unordered same-piece, different-performer pair, piece by piece."""
    return [(a, b) for perfs in index.pieces.values() for a, b in combinations(perfs, 2) if a.performer != b.performer]


class SamePiecePairSampler:
    """Draws ``(anchor, positive)`` pairs of one piece by different performers, reproducibly per (seed,
    epoch).

    ``balance="piece"`` draws the piece uniformly (a piece with 30 performances is not 400 times as frequent
    as one with 2); ``"pair"`` draws uniformly over all pairs.
    """

    def __init__(self, index: PieceIndex, seed: int = 0, *, balance: Literal["piece", "pair"] = "piece") -> None:
        self.index, self.seed, self.balance = index, seed, balance
        self.pieces = index.paired_pieces()
        if not self.pieces:
            raise ValueError("no piece has performances by two different performers: nothing to pair")
        counts = np.array([index.pair_count(k) for k in self.pieces], dtype=np.float64)
        self._weights = counts / counts.sum() if balance == "pair" else None

    def sample(self, n: int, epoch: int = 0) -> list[tuple[Performance, Performance]]:
        rng = np.random.default_rng([self.seed, epoch])
        pairs = []
        for _ in range(n):
            perfs = self.index[self.pieces[int(rng.choice(len(self.pieces), p=self._weights))]]
            a = perfs[int(rng.integers(len(perfs)))]
            others = [p for p in perfs if p.performer != a.performer]  # never empty: >= 2 performers
            pairs.append((a, others[int(rng.integers(len(others)))]))
        return pairs

    def __iter__(self) -> Iterator[tuple[Performance, Performance]]:
        epoch = 0
        while True:
            yield from self.sample(1024, epoch)
            epoch += 1


def pair_batches(groups: Sequence[Hashable | None], batch_size: int, seed: int = 0) -> list[list[int]]:
    """One epoch of batches of indices in which same-group items come in pairs.

    The members of each known group (``None`` = unknown) are shuffled and cut into pairs; the pairs, then the
    leftovers (odd members and unknown items), fill batches of at most ``max(2, batch_size)`` in a shuffled
    order, a pair never split across two batches; the batches are shuffled. Every index appears exactly once.
    Deterministic for a given ``seed``.
    """
    size = max(2, batch_size)
    rng = random.Random(seed)
    by_group: dict[Hashable, list[int]] = {}
    loose: list[list[int]] = []
    for i, g in enumerate(groups):
        if g is None:
            loose.append([i])
        else:
            by_group.setdefault(g, []).append(i)
    chunks: list[list[int]] = []
    for idx in by_group.values():
        rng.shuffle(idx)
        chunks += [idx[k : k + 2] for k in range(0, len(idx), 2)]
    chunks += loose
    rng.shuffle(chunks)
    chunks.sort(key=len, reverse=True)  # pairs first (stable: still shuffled), leftovers at the end
    batches: list[list[int]] = [[]]
    for chunk in chunks:
        if len(batches[-1]) + len(chunk) > size:
            batches.append([])
        batches[-1] += chunk
    rng.shuffle(batches)
    return [b for b in batches if b]


class SamePieceBatchSampler:
    """A ``DataLoader`` batch sampler of :func:`pair_batches`, reshuffled every epoch (seed ``seed * 1000 +
    epoch``, epochs counted from 1 by the iterations).

    Under data-parallel training (``torch.distributed`` initialised, e.g. Lightning's ``ddp``, or
    ``num_replicas`` and ``rank`` given) ``batch_size`` is the batch of one process: every process draws the
    same global batches of ``batch_size * num_replicas`` and takes its own contiguous slice of each, so all
    processes see as many batches and together exactly the batches one process would see with the global size.
    Slices are cut at even offsets, so same-piece pairs stay on one process (pairs are packed before
    leftovers); a global batch shorter than ``num_replicas`` is repeated so that no process gets none.
    Lightning cannot put its own distributed sampler into a batch sampler: this one shards itself.
    """

    def __init__(
        self,
        groups: Sequence[Hashable | None],
        batch_size: int,
        seed: int = 0,
        *,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        self.groups, self.batch_size, self.seed, self.epoch = list(groups), max(2, batch_size), seed, 0
        self.num_replicas, self.rank = num_replicas, rank

    def replicas(self) -> tuple[int, int]:
        """``(number of processes, this process's rank)``: as given, else from ``torch.distributed``."""
        if self.num_replicas is not None:
            return self.num_replicas, self.rank or 0
        dist = sys.modules.get("torch.distributed")  # not imported: no process group, and no torch import here
        if dist is not None and dist.is_available() and dist.is_initialized():
            return int(dist.get_world_size()), int(dist.get_rank())
        return 1, 0

    def __iter__(self) -> Iterator[list[int]]:
        self.epoch += 1
        world, rank = self.replicas()
        batches = pair_batches(self.groups, self.batch_size * world, self.seed * 1000 + self.epoch)
        return iter(batches if world == 1 else [_shard(b, world, rank) for b in batches])

    def __len__(self) -> int:
        """Exact: the packing depends only on how many pairs and leftovers there are, not on their order."""
        size = self.batch_size * self.replicas()[0]
        counts = Counter(g for g in self.groups if g is not None)
        pairs = sum(n // 2 for n in counts.values())
        singles = sum(n % 2 for n in counts.values()) + sum(g is None for g in self.groups)
        count, fill = 1, 0
        for item in [2] * pairs + [1] * singles:
            if fill + item > size:
                count, fill = count + 1, 0
            fill += item
        return count if fill else count - 1


def _shard(batch: list[int], world: int, rank: int) -> list[int]:
    """Process ``rank``'s contiguous slice of one global batch, cut at even offsets when that leaves none empty."""
    if len(batch) < world:
        batch = (batch * world)[:world]
    n = len(batch)
    cuts = [0, *(2 * round(k * n / (2 * world)) for k in range(1, world)), n]
    if any(b <= a for a, b in pairwise(cuts)):
        cuts = [k * n // world for k in range(world + 1)]
    return batch[cuts[rank] : cuts[rank + 1]]


def pair_subset(groups: Sequence[Hashable], limit: int | None, seed: int = 0) -> list[int]:
    """At most ``limit`` indices, taken as same-group pairs from as many groups as possible.

    A plain random subset of PercePiano holds almost no same-piece pairs, which the contrastive and ranking
    losses need. Groups are visited in a shuffled order and two members (one for a single-member group) drawn
    from each until ``limit`` is reached; ``None`` or a ``limit`` of at least ``len(groups)`` keeps every index.
    """
    if limit is None or len(groups) <= limit:
        return list(range(len(groups)))
    rng = random.Random(seed)
    by_group: dict[Hashable, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    members_of = list(by_group.values())
    rng.shuffle(members_of)
    chosen: list[int] = []
    for members in members_of:
        chosen += rng.sample(members, min(2, len(members), int(limit) - len(chosen)))
        if len(chosen) >= int(limit):
            break
    return chosen
