"""F2: pool and project each modality, concatenate, MLP. The baseline the other fusions must beat."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from piano_data.contracts import EncoderOutput
from torch import nn

from piano_fusion.config import FusionConfig
from piano_fusion.fusions.base import Fusion, FusionOutput
from piano_fusion.pooling import ModalityEmbedder

__all__ = ["ConcatFusion"]


class ConcatFusion(Fusion):
    """``z = MLP([z_1; ...; z_M])`` with ``z_m`` the pooled, projected modality ``m``.

    Also accepts a single modality (``z = MLP(z_1)``), which is how single-modality models are built.
    """

    min_modalities = 1

    def __init__(self, modalities: Sequence[str], in_dims: Sequence[int], cfg: FusionConfig) -> None:
        super().__init__(modalities, in_dims, cfg)
        self.embed = nn.ModuleDict(
            {
                m: ModalityEmbedder(d, cfg.z_dim, cfg.pool_hidden, cfg.hidden, cfg.dropout)
                for m, d in zip(self.modalities, self.in_dims, strict=True)
            }
        )
        self.mlp = nn.Sequential(
            nn.Linear(len(self.modalities) * cfg.z_dim, cfg.hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.z_dim),
        )

    def forward(self, outputs: Mapping[str, EncoderOutput]) -> FusionOutput:
        self.check(outputs)
        per = {m: self.embed[m](outputs[m], m) for m in self.modalities}
        z = self.mlp(torch.cat([per[m] for m in self.modalities], dim=-1))
        return FusionOutput(z=z.unsqueeze(1), per_modality=per)
