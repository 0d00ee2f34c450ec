"""Heads on the fused ``z [B, K, z_dim]``: quality (19 in [0, 1]), ranking (19 scores), difficulty."""

from __future__ import annotations

from typing import Literal

import torch
from piano_data.contracts import N_DIMS
from torch import nn

__all__ = ["DifficultyHead", "PerDimensionHead", "QualityHead", "RankingHead", "ordinal_to_level"]


class PerDimensionHead(nn.Module):
    """``out[b, d] = w_d . h(z[b, k(d)]) + c_d`` with a shared hidden layer ``h``.

    ``z`` is ``[B, K, D]``: with ``K = 1`` every dimension reads the shared slot, with ``K = n_dims``
    dimension ``d`` reads its own slot (F3's per-dimension ``z_d``).
    """

    def __init__(self, z_dim: int, hidden: int = 256, dropout: float = 0.1, n_dims: int = N_DIMS) -> None:
        super().__init__()
        self.n_dims = n_dims
        self.hidden = nn.Sequential(nn.LayerNorm(z_dim), nn.Linear(z_dim, hidden), nn.GELU(), nn.Dropout(dropout))
        self.weight = nn.Parameter(torch.empty(n_dims, hidden))
        self.bias = nn.Parameter(torch.zeros(n_dims))
        nn.init.normal_(self.weight, std=hidden**-0.5)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z.unsqueeze(1)
        if z.shape[1] not in (1, self.n_dims):
            raise ValueError(f"z must be [B, 1 or {self.n_dims}, D], got {tuple(z.shape)}")
        h = self.hidden(z).expand(-1, self.n_dims, -1)
        return torch.einsum("bdh,dh->bd", h, self.weight) + self.bias


class QualityHead(PerDimensionHead):
    """The 19 quality dimensions in [0, 1] (sigmoid)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(super().forward(z))


class RankingHead(PerDimensionHead):
    """19 unbounded per-dimension scores; ``score_i - score_j`` is the logit that ``i`` ranks above ``j``."""


class DifficultyHead(nn.Module):
    """Auxiliary difficulty from the mean of ``z``'s slots.

    ``regression``: one value per sample ``[B]``. ``ordinal``: ``n_levels - 1`` cumulative logits ``[B, L-1]``
    (CORAL-style, a shared score with ordered thresholds): ``sigmoid(logit_k) = P(level > k)``.
    """

    def __init__(
        self,
        z_dim: int,
        hidden: int = 256,
        dropout: float = 0.1,
        mode: Literal["regression", "ordinal"] = "regression",
        n_levels: int = 8,
    ) -> None:
        super().__init__()
        if mode == "ordinal" and n_levels < 2:
            raise ValueError(f"an ordinal difficulty head needs at least 2 levels, got {n_levels}")
        self.mode = mode
        self.n_levels = n_levels
        self.net = nn.Sequential(
            nn.LayerNorm(z_dim),
            nn.Linear(z_dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )
        self.thresholds = nn.Parameter(torch.linspace(-1.0, 1.0, max(n_levels - 1, 1))) if mode == "ordinal" else None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        pooled = z.mean(dim=1) if z.dim() == 3 else z
        score = self.net(pooled)  # [B, 1]
        if self.thresholds is None:
            return score.squeeze(-1)
        return score - self.thresholds


def ordinal_to_level(logits: torch.Tensor) -> torch.Tensor:
    """Cumulative logits ``[B, L-1]`` -> level ``[B]`` in ``0..L-1`` (count of ``P(level > k) > 0.5``)."""
    return (logits > 0).sum(dim=-1)
