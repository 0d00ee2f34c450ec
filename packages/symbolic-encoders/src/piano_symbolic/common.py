"""Pieces shared by the three symbolic encoders: the contrastive projection head and the way its term joins a
pretraining loss, chunking, positions.

The cross-performer contrastive loss itself (pooling + InfoNCE) is not the encoders' own: ``pretraining_loss``
takes it as a :class:`piano_data.contracts.PieceContrast` argument (``piano_fusion.piece_contrast``) and adds it
with :func:`with_piece_contrast`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from piano_data.contracts import EncoderOutput, PieceContrast
from torch import nn

__all__ = ["ContrastiveProjection", "chunked", "sinusoidal_positions", "with_piece_contrast"]


class ContrastiveProjection(nn.Module):
    """Small MLP head projecting pooled embeddings for the cross-performer contrastive loss."""

    def __init__(self, dim: int, proj_dim: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, proj_dim))

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.net(pooled)


def with_piece_contrast(
    terms: dict[str, torch.Tensor],
    loss: torch.Tensor,
    batch: Mapping[str, object],
    piece_contrast: PieceContrast | None,
    states: Callable[[], EncoderOutput],
    projection: Callable[[torch.Tensor], torch.Tensor],
    *,
    temperature: float,
    weight: float,
) -> dict[str, torch.Tensor]:
    """Finish a ``pretraining_loss``: ``terms`` (the encoder's own named terms, summing to ``loss``) plus, when
    ``batch`` has ``group_ids``, a ``piece_contrast`` is given and ``weight > 0``, the term
    ``terms["contrastive"] = piece_contrast(states(), group_ids, projection, temperature)`` added to the total
    as ``weight`` x it; the total goes in ``terms["loss"]``. ``states`` (the encoder's output states for this
    batch) is computed only when the term is on. Returns ``terms``.
    """
    groups = batch.get("group_ids")
    if isinstance(groups, torch.Tensor) and piece_contrast is not None and weight > 0:
        con = piece_contrast(states(), groups, projection, temperature)
        terms["contrastive"] = con
        loss = loss + weight * con
    terms["loss"] = loss
    return terms


def sinusoidal_positions(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """``[length, dim]`` fixed sinusoidal position table."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10_000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
    return table


def chunked(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor, mask: torch.Tensor, chunk: int
) -> torch.Tensor:
    """Apply a sequence model ``fn(x [B, L, ...], mask [B, L]) -> [B, L, D]`` in non-overlapping chunks.

    Sequences longer than ``chunk`` steps are cut into ``ceil(L / chunk)`` windows that are encoded
    independently (no attention across windows) and concatenated back in time order, so outputs keep
    every step.
    """
    b, length = mask.shape
    if length <= chunk:
        return fn(x, mask)
    n = math.ceil(length / chunk)
    pad = n * chunk - length
    if pad:
        x = F.pad(x, (0, 0) * (x.dim() - 2) + (0, pad))
        mask = F.pad(mask, (0, pad), value=False)
    xs = x.reshape(b * n, chunk, *x.shape[2:])
    ms = mask.reshape(b * n, chunk)
    live = ms.any(1)
    y = fn(xs[live], ms[live])
    out = y.new_zeros(b * n, chunk, y.shape[-1])
    out[live] = y
    return out.reshape(b, n * chunk, -1)[:, :length]
