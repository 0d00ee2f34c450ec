"""The models A1-A3 train: a MuQ backbone composed with piano_fusion's pooling, head and losses.

``AudioRegressor`` is :class:`piano_fusion.EncoderRegressor` (attention pooling + quality head, the same as
S1-S3) over a MuQ backbone, with A3's discriminative per-layer rates. ``AudioContrastiveModel`` is A2's
stage-1 model: the (LoRA-adapted) backbone + a projection, trained on the cross-performer piece InfoNCE and the
clean/augmented invariance loss of :mod:`piano_fusion.losses`.

Batches are dicts: ``audio`` ``[B, N]`` 24 kHz mono, ``lengths`` ``[B]`` samples (optional), ``labels``
``[B, 19]``, ``piece`` ``[B]`` (same-piece group ids), ``performer`` ``[B]`` ids, ``augmented`` ``[B, N]``
(optional).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from piano_audio import MuQBackbone
from piano_audio.unfreeze import UnfreezeSchedule, discriminative_param_groups
from piano_data.contracts import EncoderOutput
from piano_fusion import EncoderRegressor, ProjectionHead, augmentation_invariance_loss, info_nce_loss, masked_mean
from torch import nn

__all__ = ["AudioBatchEncoder", "AudioContrastiveModel", "AudioRegressor"]


class AudioBatchEncoder(nn.Module):
    """``batch -> backbone(batch[key], batch["lengths"])``: a MuQ backbone as a batch encoder."""

    def __init__(self, backbone: MuQBackbone, key: str = "audio") -> None:
        super().__init__()
        self.backbone = backbone
        self.key = key
        self.output_dim = backbone.output_dim

    def forward(self, batch: Mapping[str, Any]) -> EncoderOutput:
        out: EncoderOutput = self.backbone(batch[self.key], batch.get("lengths"))
        return out


class AudioRegressor(EncoderRegressor):
    """Backbone -> attention pooling -> quality head: ``[B, 19]`` in [0, 1].

    With ``schedule`` (A3) :meth:`param_groups` gives discriminative rates per unfrozen layer plus the pooling
    and head at the trainer's base rate; without it every trainable parameter gets the base rate (A1: LoRA +
    head).
    """

    def __init__(
        self,
        backbone: MuQBackbone,
        hidden: int = 256,
        dropout: float = 0.1,
        schedule: UnfreezeSchedule | None = None,
    ) -> None:
        super().__init__(AudioBatchEncoder(backbone), hidden=hidden, dropout=dropout)
        self.schedule = schedule

    @property
    def backbone(self) -> MuQBackbone:
        return self.encoder.backbone  # type: ignore[return-value]

    def param_groups(self, base_lr: float) -> list[dict[str, Any]]:
        if self.schedule is None:
            return super().param_groups(base_lr)
        return discriminative_param_groups(self.backbone, self.schedule, self.head_parameters(), head_lr=base_lr)


class AudioContrastiveModel(nn.Module):
    """A2 stage 1: a (LoRA-adapted) backbone + projection trained without labels.

    ``pretraining_loss(batch)`` = piece InfoNCE on clean audio (same piece, different performer are positives)
    + ``invariance_weight`` x clean-vs-augmented invariance (when ``augmented`` is given), both at
    ``temperature``.
    """

    def __init__(
        self,
        backbone: MuQBackbone,
        proj_dim: int = 128,
        temperature: float = 0.1,
        invariance_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.temperature = temperature
        self.invariance_weight = invariance_weight
        d = backbone.output_dim
        self.projection = ProjectionHead(d, proj_dim, hidden=d // 2, dropout=0.0)

    def embed(self, batch: Mapping[str, Any], key: str = "audio") -> torch.Tensor:
        out = self.backbone(batch[key], batch.get("lengths"))
        return self.projection(masked_mean(out.frames, out.mask))  # type: ignore[no-any-return]

    def pretraining_loss(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        z = self.embed(batch)
        contrastive = info_nce_loss(z, batch["piece"], self.temperature, exclude=batch.get("performer"))
        terms = {"contrastive": contrastive}
        loss = contrastive
        if "augmented" in batch and self.invariance_weight > 0:
            inv = augmentation_invariance_loss(z, self.embed(batch, "augmented"), self.temperature)
            terms["invariance"] = inv
            loss = loss + self.invariance_weight * inv
        terms["loss"] = loss
        return terms
