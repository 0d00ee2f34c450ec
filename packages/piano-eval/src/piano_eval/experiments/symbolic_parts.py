"""The pieces of ``s1``-``s3`` around the encoder: projected frozen states and the batch collators."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from piano_data.contracts import EncoderOutput
from piano_symbolic.encoders import SymbolicBundle
from torch import nn

__all__ = ["ProjectedStates", "collate_labelled", "collate_states", "collate_with_groups", "count"]


class ProjectedStates(nn.Module):
    """The encoder's output projection over cached body states: ``{"h", "mask"}`` ->
    :class:`EncoderOutput`.
    """

    def __init__(self, out: nn.Linear) -> None:
        super().__init__()
        self.out = out
        self.output_dim = out.out_features

    def forward(self, batch: Mapping[str, Any]) -> EncoderOutput:
        mask = batch["mask"]
        return EncoderOutput(self.out(batch["h"]) * mask.unsqueeze(-1), mask)


def collate_states(items: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
    length = max(len(x) for x in items)
    h = torch.zeros(len(items), length, items[0].shape[1])
    mask = torch.zeros(len(items), length, dtype=torch.bool)
    for i, x in enumerate(items):
        h[i, : len(x)] = x.float()
        mask[i, : len(x)] = True
    return {"h": h, "mask": mask}


def count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def collate_with_groups(bundle: SymbolicBundle) -> Any:
    def collate(batch: list[tuple[Any, int]]) -> dict[str, Any]:
        out = dict(bundle.featurizer.collate([b[0] for b in batch]))
        out["group_ids"] = torch.tensor([b[1] for b in batch], dtype=torch.long)
        return out

    return collate


def collate_labelled(collate_items: Any) -> Any:
    def collate(batch: list[tuple[Any, np.ndarray, str]]) -> dict[str, Any]:
        out = dict(collate_items([b[0] for b in batch]))
        out["labels"] = torch.from_numpy(np.stack([b[1] for b in batch]))
        out["group"] = [b[2] for b in batch]
        return out

    return collate
