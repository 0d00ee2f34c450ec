"""F3: one gate per quality dimension, ``z_d = gate_d * z_audio + (1 - gate_d) * z_symbolic``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from piano_data.contracts import N_DIMS, EncoderOutput
from torch import nn

from piano_fusion.config import FusionConfig
from piano_fusion.fusions.base import Fusion, FusionOutput
from piano_fusion.pooling import ModalityEmbedder

__all__ = ["GatedFusion"]


class GatedFusion(Fusion):
    """Per-dimension gated mixture of the modalities' ``z``.

    Two modalities: ``gate_d = sigmoid(W_d [z_1; z_2])`` and ``z_d = gate_d z_1 + (1 - gate_d) z_2``.
    More than two: ``softmax`` over the modalities of ``W_d [z_1; ...; z_M]``. Returns ``z [B, 19, z_dim]``
    and ``gates [B, 19, M]`` so a report can show which dimensions lean on which modality.
    """

    def __init__(
        self, modalities: Sequence[str], in_dims: Sequence[int], cfg: FusionConfig, n_dims: int = N_DIMS
    ) -> None:
        super().__init__(modalities, in_dims, cfg)
        self.n_dims = n_dims
        self.embed = nn.ModuleDict(
            {
                m: ModalityEmbedder(d, cfg.z_dim, cfg.pool_hidden, cfg.hidden, cfg.dropout)
                for m, d in zip(self.modalities, self.in_dims, strict=True)
            }
        )
        n_mod = len(self.modalities)
        self.gate = nn.Linear(n_mod * cfg.z_dim, n_dims * (1 if n_mod == 2 else n_mod))

    def forward(self, outputs: Mapping[str, EncoderOutput]) -> FusionOutput:
        batch = self.check(outputs)
        per = {m: self.embed[m](outputs[m], m) for m in self.modalities}
        stacked = torch.stack([per[m] for m in self.modalities], dim=1)  # [B, M, D]
        logits = self.gate(stacked.flatten(1))
        if len(self.modalities) == 2:
            g = torch.sigmoid(logits)  # [B, 19]
            gates = torch.stack([g, 1.0 - g], dim=-1)
        else:
            gates = torch.softmax(logits.view(batch, self.n_dims, -1), dim=-1)
        z = torch.einsum("bdm,bmk->bdk", gates, stacked)
        return FusionOutput(z=z, per_modality=per, gates=gates)
