"""Rendered segments as training data: fixed-length crops with ids and labels, padding (same-piece batches:
:class:`piano_data.tiers.SamePieceBatchSampler`).

Items are dicts: ``audio`` ``[N]`` 24 kHz mono, ``labels`` ``[19]`` (NaN when unlabelled), ``piece`` and
``performer`` ids, ``group`` (the (piece, segment) name) and, with ``augment=True``, ``augmented`` ``[N]``
from :class:`piano_data.augment.AudioAugmentor`. :func:`collate` pads to the longest item and adds
``lengths``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from piano_data.samples import Segment
from torch.utils.data import Dataset

from piano_audio.audio import load_audio

__all__ = ["AudioSet", "collate"]


class AudioSet(Dataset):
    """Rendered segments as fixed-length crops (random in training, centred otherwise) with ids and labels."""

    def __init__(
        self, segs: Sequence[Segment], seconds: float | None, train: bool, seed: int, augment: bool = False
    ) -> None:
        self.segs, self.seconds, self.train, self.seed = list(segs), seconds, train, seed
        self.pieces = {g: i for i, g in enumerate(sorted({s.group for s in self.segs}))}
        self.players = {p: i for i, p in enumerate(sorted({s.player for s in self.segs}))}
        self.augmentor = None
        if augment:
            from piano_data.augment import AudioAugmentor

            self.augmentor = AudioAugmentor()
        self.calls = 0

    def __len__(self) -> int:
        return len(self.segs)

    def __getitem__(self, i: int) -> dict[str, Any]:
        s = self.segs[i]
        wave = load_audio(s.audio_path, min_seconds=0.2)  # type: ignore[arg-type]
        self.calls += 1
        if self.seconds is not None:
            n = int(self.seconds * 24_000)
            if len(wave) > n:
                rng = random.Random(self.seed * 100_003 + i * 7 + self.calls) if self.train else None
                start = rng.randrange(len(wave) - n) if rng else (len(wave) - n) // 2
                wave = wave[start : start + n]
        item: dict[str, Any] = {
            "audio": torch.from_numpy(np.ascontiguousarray(wave)),
            "labels": torch.as_tensor(s.labels if s.labels is not None else np.full(19, np.nan), dtype=torch.float32),
            "piece": self.pieces[s.group],
            "performer": self.players[s.player],
            "group": s.group,
        }
        if self.augmentor is not None:
            aug, _ = self.augmentor(wave, seed=self.seed * 1_000_003 + self.calls)
            item["augmented"] = torch.from_numpy(np.ascontiguousarray(aug, dtype=np.float32))
        return item


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Pad the waveforms (zeros) and keep their lengths; stack the rest."""
    n = max(len(it["audio"]) for it in items)
    out: dict[str, Any] = {"lengths": torch.tensor([len(it["audio"]) for it in items])}
    for key in ("audio", "augmented"):
        if key in items[0]:
            out[key] = torch.stack([torch.nn.functional.pad(it[key], (0, n - len(it[key]))) for it in items])
    out["labels"] = torch.stack([it["labels"] for it in items])
    out["piece"] = torch.tensor([it["piece"] for it in items])
    out["performer"] = torch.tensor([it["performer"] for it in items])
    out["group"] = [it["group"] for it in items]
    return out
