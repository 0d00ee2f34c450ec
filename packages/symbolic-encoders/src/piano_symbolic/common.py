"""Pieces shared by the three symbolic encoders: pooling, cross-performer contrastive loss, chunking,
positions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ContrastiveProjection", "chunked", "group_info_nce", "masked_mean", "sinusoidal_positions"]


def masked_mean(frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``frames [B, T, D]`` over the valid steps of ``mask [B, T]`` -> ``[B, D]``."""
    w = mask.to(frames.dtype).unsqueeze(-1)
    return (frames * w).sum(1) / w.sum(1).clamp_min(1.0)


def group_info_nce(z: torch.Tensor, groups: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised InfoNCE over a batch: rows with the same non-negative ``groups`` id are positives.

    ``z`` is ``[B, D]`` (normalised here), ``groups`` ``[B]`` long with ``-1`` for an unknown piece.
    Each anchor with at least one positive contributes ``-mean_p log softmax(sim / t)[p]`` (self excluded
    from the softmax).
    Returns a zero that keeps the graph when no anchor has a positive.
    """
    if z.shape[0] < 2:
        return z.sum() * 0.0
    z = F.normalize(z.float(), dim=-1)
    sim = z @ z.t() / temperature
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(eye, float("-inf"))
    known = groups >= 0
    pos = (groups[:, None] == groups[None, :]) & known[:, None] & known[None, :] & ~eye
    has_pos = pos.any(1)
    if not bool(has_pos.any()):
        return z.sum() * 0.0
    logp = sim.log_softmax(dim=1).masked_fill(eye, 0.0)
    per_anchor = -(logp * pos).sum(1) / pos.sum(1).clamp_min(1)
    return per_anchor[has_pos].mean()


class ContrastiveProjection(nn.Module):
    """Small MLP head projecting pooled embeddings for the cross-performer contrastive loss."""

    def __init__(self, dim: int, proj_dim: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, proj_dim))

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.net(pooled)


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
