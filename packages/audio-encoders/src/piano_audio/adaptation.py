"""Models and objectives for adapting MuQ to piano (A1-A3): a quality regressor and A2's stage-1 objective.

Pure torch: the Lightning orchestration (recipe, checkpoints, schedules) lives in ``piano_eval``. Batches are
dicts: ``audio`` ``[B, N]`` 24 kHz mono, ``lengths`` ``[B]`` samples (optional), ``labels`` ``[B, 19]``,
``piece`` ``[B]`` (same-piece group ids) and ``performer`` ``[B]`` ids, ``augmented`` ``[B, N]`` (optional).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from piano_data.contracts import N_DIMS, EncoderOutput
from torch import nn

from piano_audio.backbone import MuQBackbone
from piano_audio.unfreeze import UnfreezeSchedule, discriminative_param_groups

__all__ = [
    "AudioContrastiveModel",
    "AudioRegressor",
    "cross_performer_contrastive_loss",
    "invariance_loss",
    "masked_mean",
]


def masked_mean(out: EncoderOutput) -> torch.Tensor:
    """Mean of the valid frames: ``[B, D]``."""
    w = out.mask.to(out.frames.dtype)[..., None]
    return (out.frames * w).sum(1) / w.sum(1).clamp(min=1.0)


def _encode(backbone: MuQBackbone, batch: Mapping[str, Any], key: str = "audio") -> EncoderOutput:
    return backbone(batch[key], batch.get("lengths"))


class AudioRegressor(nn.Module):
    """Backbone -> masked mean pooling -> 2-layer MLP -> sigmoid: ``[B, 19]`` quality predictions in [0, 1].

    With ``schedule`` (A3) :meth:`param_groups` gives discriminative rates per unfrozen layer plus the head at
    the trainer's base rate; without it only trainable parameters are optimised (A1: LoRA + head).
    """

    def __init__(
        self,
        backbone: MuQBackbone,
        hidden: int = 256,
        dropout: float = 0.1,
        n_outputs: int = N_DIMS,
        schedule: UnfreezeSchedule | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.schedule = schedule
        self.head = nn.Sequential(
            nn.LayerNorm(backbone.output_dim),
            nn.Linear(backbone.output_dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_outputs),
        )

    def forward(self, batch: Mapping[str, Any]) -> torch.Tensor:
        return torch.sigmoid(self.head(masked_mean(_encode(self.backbone, batch))))

    def param_groups(self, base_lr: float) -> list[dict[str, Any]]:
        if self.schedule is None:
            return [{"params": [p for p in self.parameters() if p.requires_grad], "lr": base_lr}]
        return discriminative_param_groups(self.backbone, self.schedule, self.head.parameters(), head_lr=base_lr)


def cross_performer_contrastive_loss(
    z: torch.Tensor, piece: torch.Tensor, performer: torch.Tensor | None = None, temperature: float = 0.1
) -> torch.Tensor:
    """Supervised-contrastive InfoNCE where the positives of an anchor are other performers of the same piece.

    ``z`` ``[B, D]`` is L2-normalised here. Anchors without a positive or without a negative are skipped; a
    batch with none gives a zero that still carries the graph.
    """
    n = z.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    same_piece = piece[:, None] == piece[None, :]
    pos = same_piece & ~eye
    if performer is not None:
        pos &= performer[:, None] != performer[None, :]
    anchors = pos.any(1) & (~same_piece).any(1)
    if not bool(anchors.any()):
        return z.sum() * 0.0
    zn = F.normalize(z, dim=-1)
    logits = (zn @ zn.T / temperature).masked_fill(eye, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    per_anchor = -log_prob.masked_fill(~pos, 0.0).sum(1) / pos.sum(1).clamp(min=1)
    return per_anchor[anchors].mean()


def invariance_loss(z_clean: torch.Tensor, z_aug: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Symmetric InfoNCE between clean and augmented views: each clip must find its own augmented copy."""
    a, b = F.normalize(z_clean, dim=-1), F.normalize(z_aug, dim=-1)
    logits = a @ b.T / temperature
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


class AudioContrastiveModel(nn.Module):
    """A2 stage 1: a (LoRA-adapted) backbone + projection trained without labels.

    ``pretraining_loss(batch)`` = cross-performer contrastive loss on clean audio (same piece, different
    performer are positives) + ``invariance_weight`` x clean-vs-augmented InfoNCE (when ``augmented`` is
    given).
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
        self.projection = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d // 2), nn.GELU(), nn.Linear(d // 2, proj_dim))

    def embed(self, batch: Mapping[str, Any], key: str = "audio") -> torch.Tensor:
        return self.projection(masked_mean(_encode(self.backbone, batch, key)))

    def pretraining_loss(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        z = self.embed(batch)
        contrastive = cross_performer_contrastive_loss(
            z, batch["piece"], batch.get("performer"), temperature=self.temperature
        )
        terms = {"contrastive": contrastive}
        loss = contrastive
        if "augmented" in batch and self.invariance_weight > 0:
            inv = invariance_loss(z, self.embed(batch, "augmented"), temperature=self.temperature)
            terms["invariance"] = inv
            loss = loss + self.invariance_weight * inv
        terms["loss"] = loss
        return terms
