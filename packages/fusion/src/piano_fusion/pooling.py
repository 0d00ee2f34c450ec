"""Masked attention pooling and the projection to ``z``: ``EncoderOutput [B, T, D]`` -> ``z [B, 512]``."""

from __future__ import annotations

import torch
from piano_data.contracts import EncoderOutput
from torch import nn

from piano_fusion.validation import check_output, clean_frames

__all__ = ["AttentionPooling", "ModalityEmbedder", "ProjectionHead", "masked_mean", "masked_softmax"]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax over ``dim`` with masked-out (``False``) positions given exactly zero weight."""
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=dim)
    return weights.masked_fill(~mask, 0.0)


def masked_mean(frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``frames [B, T, D]`` over the valid steps of ``mask [B, T]`` -> ``[B, D]`` (zero if none)."""
    w = mask.to(frames.dtype).unsqueeze(-1)
    return (frames * w).sum(1) / w.sum(1).clamp_min(1.0)


class AttentionPooling(nn.Module):
    """Additive attention pooling over valid frames:
    ``a_t = softmax_t(w^T tanh(W h_t + b))``, ``z = sum_t a_t h_t``
    (no bias on ``w``: softmax is shift-invariant, so it could never learn).

    With ``stats=True`` it is attentive statistics pooling (Okabe et al. 2018, the x-vector variant): the
    attentive mean ``mu = sum_t a_t h_t`` and the attentive standard deviation
    ``sigma = sqrt(sum_t a_t h_t^2 - mu^2 + eps)`` concatenated, ``[B, 2D]``, so the head also sees how much
    the frames vary, not only their weighted mean. :attr:`output_dim` is ``D`` or ``2D``.

    Padding frames get zero weight, so adding padding never changes the result. Sequences must hold at least
    one valid frame (:class:`~piano_fusion.validation.FusionInputError` otherwise).
    """

    def __init__(self, dim: int, hidden: int = 128, stats: bool = False, eps: float = 1e-5) -> None:
        super().__init__()
        self.dim = dim
        self.stats = stats
        self.eps = eps
        self.output_dim = 2 * dim if stats else dim
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1, bias=False))

    def forward(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``frames [B, T, D]``, ``mask [B, T]`` -> pooled ``[B, D]`` (``[B, 2D]`` with ``stats``)."""
        frames = frames.masked_fill(~mask.unsqueeze(-1), 0.0)
        weights = masked_softmax(self.score(frames).squeeze(-1), mask)  # [B, T]
        mean = torch.einsum("bt,btd->bd", weights, frames)
        if not self.stats:
            return mean
        second = torch.einsum("bt,btd->bd", weights, frames * frames)
        std = torch.sqrt((second - mean * mean).clamp_min(0.0) + self.eps)
        return torch.cat([mean, std], dim=-1)

    def weights(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The attention weights ``[B, T]`` (zero on padding), for inspection."""
        frames = frames.masked_fill(~mask.unsqueeze(-1), 0.0)
        return masked_softmax(self.score(frames).squeeze(-1), mask)


class ProjectionHead(nn.Module):
    """``LayerNorm -> Linear -> GELU -> Dropout -> Linear``: a pooled vector to the shared space ``z``."""

    def __init__(self, in_dim: int, out_dim: int = 512, hidden: int = 512, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(in_dim),
            nn.Linear(in_dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ModalityEmbedder(nn.Module):
    """Pool one modality's :class:`EncoderOutput` and project it: ``[B, T, in_dim]`` -> ``z [B, out_dim]``."""

    def __init__(
        self, in_dim: int, out_dim: int = 512, pool_hidden: int = 128, hidden: int = 512, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.pool = AttentionPooling(in_dim, pool_hidden)
        self.project = ProjectionHead(in_dim, out_dim, hidden, dropout)

    def forward(self, out: EncoderOutput, name: str = "input") -> torch.Tensor:
        check_output(out, name=name, dim=self.in_dim)
        return self.project(self.pool(clean_frames(out), out.mask))
