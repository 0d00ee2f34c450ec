"""``EncoderRegressor``: any encoder -> attention pooling -> the 19-dim quality head.

The one pooling and head every single-encoder experiment (audio A1-A3, symbolic S1-S3) trains, so that those
experiments differ only in their encoder. The encoder is any module ``encoder(batch) -> EncoderOutput`` with an
``output_dim``; this package never imports one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from piano_data.contracts import N_DIMS, EncoderOutput
from torch import nn

from piano_fusion.heads import QualityHead
from piano_fusion.pooling import AttentionPooling

__all__ = ["EncoderRegressor"]


class EncoderRegressor(nn.Module):
    """``encoder(batch)`` -> :class:`AttentionPooling` -> :class:`QualityHead`: ``[B, 19]`` in [0, 1].

    ``pool_stats`` pools attentive mean and standard deviation (:class:`AttentionPooling` ``stats``), so
    :meth:`embed` is ``[B, 2D]``. ``side_dim`` > 0 concatenates a per-sample side vector
    ``batch[side_key]`` ``[B, side_dim]`` (e.g. hand-crafted features) after pooling, so the head reads it
    beside the pooled frames instead of as one more frame mixed into the pooled statistics.

    :meth:`param_groups` gives the encoder's trainable parameters ``encoder_lr_scale`` x the base rate and the
    pooling + head the base rate; subclasses override it for other schedules (discriminative rates per layer).
    """

    def __init__(
        self,
        encoder: nn.Module,
        hidden: int = 128,
        dropout: float = 0.1,
        pool_hidden: int = 128,
        encoder_lr_scale: float = 1.0,
        n_outputs: int = N_DIMS,
        pool_stats: bool = False,
        side_dim: int = 0,
        side_key: str = "features",
    ) -> None:
        super().__init__()
        dim = int(encoder.output_dim)  # type: ignore[arg-type]
        self.encoder = encoder
        self.pool = AttentionPooling(dim, pool_hidden, stats=pool_stats)
        self.side_dim = side_dim
        self.side_key = side_key
        self.head = QualityHead(self.pool.output_dim + side_dim, hidden=hidden, dropout=dropout, n_dims=n_outputs)
        self.encoder_lr_scale = encoder_lr_scale

    def encode(self, batch: Mapping[str, Any]) -> EncoderOutput:
        out: EncoderOutput = self.encoder(batch)
        return out

    def embed(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """The attention-pooled encoder states ``[B, D]`` (``[B, 2D]`` with ``pool_stats``; then the side vector
        when ``side_dim``) the head reads (what the T3 contrast compares)."""
        out = self.encode(batch)
        z: torch.Tensor = self.pool(out.frames, out.mask)
        if not self.side_dim:
            return z
        side = batch[self.side_key]
        if side.shape != (len(z), self.side_dim):
            raise ValueError(f"side vector {self.side_key!r} must be [B, {self.side_dim}], got {tuple(side.shape)}")
        return torch.cat([z, side.to(z.dtype)], dim=-1)

    def forward(self, batch: Mapping[str, Any]) -> torch.Tensor:
        return self.head(self.embed(batch))  # type: ignore[no-any-return]

    def head_parameters(self) -> list[nn.Parameter]:
        """The pooling and head parameters (everything but the encoder)."""
        return [*self.pool.parameters(), *self.head.parameters()]

    def param_groups(self, base_lr: float) -> list[dict[str, Any]]:
        encoder = [p for p in self.encoder.parameters() if p.requires_grad]
        groups = [
            {"params": encoder, "lr": base_lr * self.encoder_lr_scale},
            {"params": self.head_parameters(), "lr": base_lr},
        ]
        return [g for g in groups if g["params"]]
