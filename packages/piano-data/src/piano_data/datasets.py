"""Torch datasets for labelled segments (T1) and unlabelled clips (T4), one padding collate, and the tier mixer.

Every dataset takes a *features* callable that turns one record (a :class:`~piano_data.samples.Segment` or a
:class:`~piano_data.tiers.Clip`) into an array ``[T]`` or ``[T, D]`` (audio samples, cached frames, token
ids).
:class:`AudioFeatures` and :class:`CachedFeatures` are the two provided. Items are dicts:

=====  ============================================================================================
tier   keys
=====  ============================================================================================
1      ``x``, ``labels`` [19], ``key``, ``piece``, ``group``
4      ``x``, ``key`` (no labels, ever)
=====  ============================================================================================

plus ``tier``. :func:`collate_tiers` pads every ``x*`` to the longest item along time and adds the matching
``mask*`` (``[B, T]`` bool, True = real) and ``length*``. An item whose features raise
:class:`~piano_data.errors.PianoDataError` is logged and dropped by the collate (a counted skip, not a crash
in the worker). :class:`TierMixer` interleaves several DataLoaders by weight.

The pair tiers have one owner each in :mod:`piano_data.tiers`: T2 ordinal pairs
(:func:`~piano_data.tiers.ordinal_pairs`) and T3 same-passage pairs
(:class:`~piano_data.tiers.SamePiecePairSampler`). The experiments batch them with their own items and collate
through ``piano_eval.training.tier_loader``, which hands every tier's loader to :class:`TierMixer`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from piano_data.audio_io import check_clip, load_audio
from piano_data.augment import AudioAugmentor, augmentation_id
from piano_data.cache import CacheKey, EmbeddingCache
from piano_data.contracts import SAMPLE_RATE
from piano_data.errors import PianoDataError
from piano_data.samples import Segment
from piano_data.tiers.unlabelled import Clip

__all__ = [
    "AudioFeatures",
    "CachedFeatures",
    "ClipDataset",
    "LabelledDataset",
    "TierMixer",
    "collate_tiers",
]

log = logging.getLogger(__name__)
Features = Callable[[Any], np.ndarray | torch.Tensor]
Item = dict[str, Any]


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


class AudioFeatures:
    """Audio samples ``[T]`` of a record (its ``audio_path``; a Clip's span), optionally cropped and
    augmented.

    ``max_seconds`` crops (a random window per (seed, key, epoch) when ``random_crop``, else the start).
    With an ``augmentor`` each read draws augmentations from ``(seed, key, epoch)``: reproducible and
    different every epoch (call :meth:`set_epoch`). The records of the last call are in ``last_applied``.
    Clips shorter than ``min_seconds`` or silent (RMS <= ``silence_dbfs``) raise :class:`PianoDataError`,
    which the datasets turn into logged skips.
    """

    def __init__(
        self,
        *,
        sample_rate: int = SAMPLE_RATE,
        max_seconds: float | None = None,
        random_crop: bool = False,
        augmentor: AudioAugmentor | None = None,
        seed: int = 0,
        min_seconds: float = 0.5,
        silence_dbfs: float = -70.0,
    ) -> None:
        self.sample_rate, self.max_seconds, self.random_crop = sample_rate, max_seconds, random_crop
        self.min_seconds, self.silence_dbfs = min_seconds, silence_dbfs
        self.augmentor, self.seed, self.epoch = augmentor, seed, 0
        self.last_applied: list[Any] = []

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __call__(self, record: Any) -> np.ndarray:
        key = str(getattr(record, "key", record))
        if isinstance(record, Clip):
            audio = load_audio(record.path, self.sample_rate, start_s=record.start_s, duration_s=record.duration_s)
        else:
            path = getattr(record, "audio_path", None)
            if path is None:
                raise PianoDataError(None, f"{key}: no audio_path (render MIDI first: piano_data.render_segments)")
            audio = load_audio(path, self.sample_rate)
        where = getattr(record, "path", None) or getattr(record, "audio_path", None)
        check_clip(
            audio,
            path=where,
            sample_rate=self.sample_rate,
            min_seconds=self.min_seconds,
            silence_dbfs=self.silence_dbfs,
        )
        rng = np.random.default_rng([self.seed, _stable(key), self.epoch])
        if self.max_seconds is not None and len(audio) > (n := int(self.max_seconds * self.sample_rate)):
            start = int(rng.integers(len(audio) - n + 1)) if self.random_crop else 0
            audio = audio[start : start + n]
        if self.augmentor is not None:
            audio, self.last_applied = self.augmentor(audio, int(rng.integers(2**31)))
        return audio


class CachedFeatures:
    """Frames ``[T, D]`` from an :class:`~piano_data.cache.EmbeddingCache`; ``key_fn(record)`` gives the key.

    A missing entry raises :class:`PianoDataError` (the collate drops the item and says so).
    """

    def __init__(self, cache: EmbeddingCache, key_fn: Callable[[Any], CacheKey]) -> None:
        self.cache, self.key_fn = cache, key_fn

    def __call__(self, record: Any) -> np.ndarray:
        key = self.key_fn(record)
        arr = self.cache.get(key)
        if arr is None:
            raise PianoDataError(self.cache.root, f"no cached embedding for {getattr(record, 'key', record)} ({key})")
        return np.array(arr)  # copy out of the memory map: tensors must own their memory across workers


def _tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))


class _Base(Dataset):  # type: ignore[type-arg]
    tier = 0

    def __init__(self, records: Sequence[Any], features: Features) -> None:
        self.records, self.features = list(records), features

    def __len__(self) -> int:
        return len(self.records)

    def _x(self, record: Any) -> torch.Tensor:
        return _tensor(self.features(record))

    def __getitem__(self, i: int) -> Item | None:
        try:
            return {"tier": self.tier, **self._item(self.records[i])}
        except PianoDataError as exc:
            log.warning("tier %d item %d skipped: %s", self.tier, i, exc)
            return None

    def _item(self, record: Any) -> Item:
        raise NotImplementedError


class LabelledDataset(_Base):
    """T1: labelled segments (``labels`` required)."""

    tier = 1

    def __init__(self, segments: Sequence[Segment], features: Features) -> None:
        unlabelled = [s.key for s in segments if s.labels is None]
        if unlabelled:
            raise ValueError(
                f"LabelledDataset needs labels; {len(unlabelled)} segments have none (e.g. {unlabelled[0]})"
            )
        super().__init__(segments, features)

    def _item(self, s: Segment) -> Item:
        labels = torch.as_tensor(np.asarray(s.labels, dtype=np.float32))
        return {"x": self._x(s), "labels": labels, "key": s.key, "piece": s.piece, "group": s.group}


class ClipDataset(_Base):
    """T4: unlabelled clips; items carry no label of any kind."""

    tier = 4

    def _item(self, c: Clip) -> Item:
        return {"x": self._x(c), "key": c.key}


def _pad(xs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([x.shape[0] for x in xs], dtype=torch.long)
    t_max = int(lengths.max()) if len(xs) else 0
    out = xs[0].new_zeros((len(xs), t_max, *xs[0].shape[1:]))
    for i, x in enumerate(xs):
        out[i, : x.shape[0]] = x
    mask = torch.arange(t_max)[None, :] < lengths[:, None]
    return out, mask, lengths


def collate_tiers(items: Sequence[Item | None]) -> dict[str, Any]:
    """Batch items of one tier: pad ``x*`` to ``[B, T, ...]`` with ``mask*`` and ``length*``, stack tensors,
    keep strings as lists. ``None`` items (skipped) are dropped; a batch with no item left raises."""
    kept = [it for it in items if it is not None]
    if len(kept) < len(items):
        log.warning("collate dropped %d of %d items (see the warnings above)", len(items) - len(kept), len(items))
    if not kept:
        raise PianoDataError(None, f"every item of a batch of {len(items)} was skipped (bad or missing inputs)")
    tiers = {it["tier"] for it in kept}
    if len(tiers) > 1:
        raise ValueError(f"collate_tiers got items of several tiers {sorted(tiers)}; use one DataLoader per tier")
    batch: dict[str, Any] = {}
    for name in kept[0]:
        values = [it[name] for it in kept]
        if name.startswith("x"):
            suffix = name[1:]
            batch[name], batch[f"mask{suffix}"], batch[f"length{suffix}"] = _pad([_tensor(v) for v in values])
        elif name == "tier":
            batch[name] = torch.tensor(values, dtype=torch.long)
        elif isinstance(values[0], torch.Tensor):
            batch[name] = torch.stack(values)
        elif isinstance(values[0], bool):
            batch[name] = torch.tensor(values, dtype=torch.bool)
        else:
            batch[name] = values
    return batch


class TierMixer:
    """Interleave DataLoaders of several tiers: each step draws a tier with probability proportional to its
    weight (seeded per epoch); a finished loader restarts. One epoch is ``steps`` batches (default: the sum of
    the loaders' lengths). Every batch keeps its ``tier`` tensor, so the loop can pick the loss."""

    def __init__(
        self,
        loaders: Mapping[str, Any],
        weights: Mapping[str, float] | None = None,
        *,
        steps: int | None = None,
        seed: int = 0,
    ) -> None:
        if not loaders:
            raise ValueError("TierMixer needs at least one loader")
        self.loaders = dict(loaders)
        w = np.array([float((weights or {}).get(k, 1.0)) for k in self.loaders], dtype=np.float64)
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError("TierMixer weights must be non-negative with a positive sum")
        self.weights, self.seed, self.epoch = w / w.sum(), seed, 0
        self.steps = steps if steps is not None else sum(len(dl) for dl in self.loaders.values())

    def __len__(self) -> int:
        return self.steps

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        names = list(self.loaders)
        iters = {k: iter(dl) for k, dl in self.loaders.items()}
        for _ in range(self.steps):
            name = names[int(rng.choice(len(names), p=self.weights))]
            try:
                batch = next(iters[name])
            except StopIteration:
                iters[name] = iter(self.loaders[name])
                batch = next(iters[name])
            yield name, batch


def augmented_key(base: CacheKey, records: Sequence[Any]) -> CacheKey:
    """``base`` with its augmentation id replaced by the id of ``records`` (what an augmentor applied)."""
    return CacheKey(
        base.content_hash, base.encoder_id, base.encoder_revision, base.layer_spec, augmentation_id(records)
    )
