"""What every fusion returns, the shared base class, and the builder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from piano_data.contracts import EncoderOutput
from torch import nn

from piano_fusion.config import FusionConfig
from piano_fusion.validation import FusionInputError, check_modalities

__all__ = ["Fusion", "FusionOutput"]


@dataclass(frozen=True)
class FusionOutput:
    """The fused representation.

    ``z`` is ``[B, K, z_dim]``: ``K = 1`` for a shared representation (F1, F2) or ``K = 19`` with one
    representation per quality dimension (F3). ``per_modality`` maps each modality to its own pooled
    ``[B, z_dim]`` (for contrastive and invariance losses). ``gates`` is ``[B, 19, M]`` (F3 only, else
    ``None``): the weight of each modality (in ``modalities`` order) for each quality dimension, summing to 1;
    with two modalities ``gates[..., 0]`` is the design's ``gate_d`` on the first one.
    """

    z: torch.Tensor
    per_modality: dict[str, torch.Tensor]
    gates: torch.Tensor | None = None

    @property
    def pooled(self) -> torch.Tensor:
        """``[B, z_dim]``: ``z`` averaged over its ``K`` slots."""
        return self.z.mean(dim=1)


class Fusion(nn.Module):
    """Base of F1-F3: fixed modality order and input widths, checked on every call."""

    min_modalities: int = 2

    def __init__(self, modalities: Sequence[str], in_dims: Sequence[int], cfg: FusionConfig) -> None:
        super().__init__()
        if len(modalities) != len(in_dims):
            raise FusionInputError(f"{len(modalities)} modalities but {len(in_dims)} input widths")
        if len(set(modalities)) != len(modalities):
            raise FusionInputError(f"duplicate modalities: {list(modalities)}")
        if len(modalities) < self.min_modalities:
            raise FusionInputError(
                f"{type(self).__name__} needs at least {self.min_modalities} modalities, got {list(modalities)}"
            )
        self.modalities = tuple(modalities)
        self.in_dims = tuple(int(d) for d in in_dims)
        self.cfg = cfg
        self.z_dim = cfg.z_dim

    def check(self, outputs: Mapping[str, EncoderOutput]) -> int:
        """Validate ``outputs`` against the configured modalities and widths; return the batch size."""
        return check_modalities(outputs, self.modalities, self.in_dims)

    def forward(self, outputs: Mapping[str, EncoderOutput]) -> FusionOutput:  # pragma: no cover - abstract
        raise NotImplementedError
