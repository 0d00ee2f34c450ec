"""The training data of every learned experiment: T1 + T2 + T3 batches through :class:`piano_data.TierMixer`.

:func:`tier_loader` builds one epoch's mixer from a fold's training segments and the experiment's own items
and collate (token ids, graphs, cached states, audio crops: whatever its encoder reads), with the preset keys
of :class:`piano_eval.experiments.config.TierKeys`:

- ``t1`` (always): the labelled segments in same-piece batches (:class:`~piano_data.tiers.SamePieceBatchSampler`).
- ``t2`` (when ``competition_manifest`` is set): ordinal pairs from competition placements
  (:func:`~piano_data.tiers.competition.ordinal_pairs`); only experiments that read audio can use them.
- ``t3``: same-piece, different-performer pairs drawn by :class:`~piano_data.tiers.SamePiecePairSampler` from
  the fold's training segments (every PercePiano passage is played by several performers), fresh every epoch.

T2 and T3 batches are ``{"x": collate(firsts + seconds), "n": n, "piece": [...]}``: one forward pass, split
at ``n``. :func:`tier_step` applies the :class:`piano_fusion.TierObjective` term of the batch's tier; both the
Lightning module (:class:`~piano_eval.training.MultiTierModule`) and plain loops call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from piano_data.datasets import TierMixer
from piano_data.samples import Segment
from piano_data.tiers.competition import CompetitionRecording, load_competition_manifest, ordinal_pairs
from piano_data.tiers.performance import Performance
from piano_data.tiers.pieces import PieceIndex, SamePieceBatchSampler, SamePiecePairSampler
from torch import nn
from torch.utils.data import DataLoader

from piano_eval.errors import UsageError

__all__ = ["tier_loader", "tier_objective", "tier_step"]

log = logging.getLogger(__name__)
Collate = Callable[[list[Any]], dict[str, Any]]
TIERS = ("t1", "t2", "t3")


def tier_objective(config: Mapping[str, Any], labelled: Any, rank_temperature: float) -> Any:
    """The :class:`piano_fusion.TierObjective` of an experiment's config with its T1 loss ``labelled``."""
    from piano_fusion import TierObjective

    return TierObjective(
        labelled,
        ordinal_weight=float(config["ordinal_weight"]),
        rank_temperature=float(rank_temperature),
        contrast_weight=float(config["contrast_weight"]),
        contrast_temperature=float(config["contrast_temperature"]),
    )


class _PairItems:
    """``items[(i, j)]`` -> ``(items[i], items[j])``: pairs of an indexable of items, fetched by a DataLoader."""

    def __init__(self, items: Any, pieces: Sequence[str]) -> None:
        self.items, self.pieces = items, pieces

    def __getitem__(self, ij: tuple[int, int]) -> tuple[Any, Any, str]:
        i, j = ij
        return self.items[i], self.items[j], self.pieces[i]

    def __len__(self) -> int:
        return len(self.items)


class _PairBatches:
    """A batch sampler of index pairs ``(i, j)``: ``n_batches`` batches of ``pairs_per_batch``.

    ``draw(n, epoch)`` gives the pairs; the epoch counts the iterations (a new draw every epoch).
    """

    def __init__(self, draw: Callable[[int, int], list[tuple[int, int]]], n_pairs: int, pairs_per_batch: int) -> None:
        self.draw, self.n_pairs, self.size, self.epoch = draw, n_pairs, max(1, pairs_per_batch), 0

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        self.epoch += 1
        pairs = self.draw(self.n_pairs, self.epoch)
        return iter([pairs[k : k + self.size] for k in range(0, len(pairs), self.size)])

    def __len__(self) -> int:
        return -(-self.n_pairs // self.size)


def _pair_collate(collate: Collate) -> Collate:
    def pairs(batch: list[tuple[Any, Any, str]]) -> dict[str, Any]:
        return {
            "x": collate([b[0] for b in batch] + [b[1] for b in batch]),
            "n": len(batch),
            "piece": [b[2] for b in batch],
        }

    return pairs


def _t3_loader(
    train: Sequence[Segment], items: Any, collate: Collate, batch_size: int, seed: int
) -> DataLoader[Any] | None:
    perfs = [
        Performance(key=str(i), source=s.source, piece=s.group, composer="", title=s.piece, performer=s.player)
        for i, s in enumerate(train)
    ]
    try:
        sampler = SamePiecePairSampler(PieceIndex(perfs), seed)
    except ValueError:
        log.warning("t3 off: no passage of the training set has two performers")
        return None

    def draw(n: int, epoch: int) -> list[tuple[int, int]]:
        return [(int(a.key), int(b.key)) for a, b in sampler.sample(n, epoch)]

    batches = _PairBatches(draw, max(1, len(train) // 2), batch_size // 2)
    pairs = _PairItems(items, [s.group for s in train])
    return DataLoader(pairs, batch_sampler=batches, collate_fn=_pair_collate(collate))  # type: ignore[arg-type]


def _t2_loader(
    manifest: str,
    recordings_items: Callable[[Sequence[CompetitionRecording]], Any] | None,
    collate: Collate,
    batch_size: int,
    seed: int,
    where: str,
) -> DataLoader[Any] | None:
    if recordings_items is None:
        raise UsageError(
            f"{where}: competition_manifest is set, but this experiment cannot read competition recordings "
            "(they are audio; it reads MIDI or cached tracks); set tier_weights.t2 to 0 or drop the manifest"
        )
    recordings = load_competition_manifest(Path(manifest))
    pairs = ordinal_pairs(recordings)
    if not pairs:
        log.warning("t2 off: %s gives no ordinal pair (one placement per round?)", manifest)
        return None
    index = {r.key: i for i, r in enumerate(recordings)}
    items = recordings_items(recordings)
    order = [(index[p.better.key], index[p.worse.key]) for p in pairs]

    def draw(n: int, epoch: int) -> list[tuple[int, int]]:
        g = torch.Generator().manual_seed(seed * 1000 + epoch)
        return [order[int(k)] for k in torch.randperm(len(order), generator=g)[:n]]

    batches = _PairBatches(draw, len(order), batch_size // 2)
    named = _PairItems(items, [r.piece for r in recordings])
    log.info("t2: %d ordinal pairs from %d recordings of %s", len(order), len(recordings), manifest)
    return DataLoader(named, batch_sampler=batches, collate_fn=_pair_collate(collate))  # type: ignore[arg-type]


def tier_loader(
    train: Sequence[Segment],
    items: Any,
    collate: Collate,
    config: Mapping[str, Any],
    *,
    batch_size: int,
    seed: int,
    where: str,
    recordings_items: Callable[[Sequence[CompetitionRecording]], Any] | None = None,
) -> TierMixer:
    """The training loader of a fold: a :class:`TierMixer` over the T1, T2 and T3 loaders the config enables.

    ``items[i]`` is the experiment's item of ``train[i]`` and ``collate`` batches a list of items (it is reused
    for the pairs). ``recordings_items`` turns competition recordings into items (audio experiments only).
    One epoch has as many T1 batches, in expectation, as a plain same-piece loader would give.
    """
    weights = {k: float(v) for k, v in dict(config["tier_weights"]).items()}
    unknown = sorted(set(weights) - set(TIERS))
    if unknown or weights.get("t1", 0.0) <= 0 or any(v < 0 for v in weights.values()):
        raise UsageError(f"{where}: tier_weights must map t1 (> 0), t2, t3 to weights >= 0, got {weights}")
    t1: DataLoader[Any] = DataLoader(
        items,
        batch_sampler=SamePieceBatchSampler([s.group for s in train], batch_size, seed),
        collate_fn=collate,
    )
    loaders: dict[str, Any] = {"t1": t1}
    if config.get("competition_manifest") and weights.get("t2", 0.0) > 0:
        t2 = _t2_loader(str(config["competition_manifest"]), recordings_items, collate, batch_size, seed, where)
        if t2 is not None:
            loaders["t2"] = t2
    if weights.get("t3", 0.0) > 0:
        t3 = _t3_loader(train, items, collate, batch_size, seed)
        if t3 is not None:
            loaders["t3"] = t3
    used = {k: weights[k] for k in loaders}
    steps = max(1, round(len(t1) * sum(used.values()) / used["t1"]))
    return TierMixer(loaders, used, steps=steps, seed=seed)


def tier_step(model: nn.Module, tier: str, batch: Mapping[str, Any], objective: Any) -> dict[str, torch.Tensor]:
    """The :class:`piano_fusion.TierObjective` terms of one batch of ``tier``.

    ``model(batch)`` gives the ``[B, 19]`` quality prediction and ``model.embed(batch)`` the pooled embedding
    (T3 only). T2/T3 batches hold both members of every pair in ``batch["x"]``, the first ``batch["n"]`` rows
    being the better (T2) or first (T3) members.
    """
    if tier == "t1":
        return objective.labelled(model(batch), batch)  # type: ignore[no-any-return]
    n = int(batch["n"])
    if tier == "t2":
        pred = model(batch["x"])
        return objective.ordinal(pred[:n], pred[n:])  # type: ignore[no-any-return]
    if tier == "t3":
        z = model.embed(batch["x"])  # type: ignore[operator]
        return objective.contrast(z[:n], z[n:], batch["piece"])  # type: ignore[no-any-return]
    raise ValueError(f"unknown tier {tier!r} (expected one of {', '.join(TIERS)})")
