"""F1: each modality's sequence attends to the others' sequences (all directions), then is pooled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from piano_data.contracts import EncoderOutput
from torch import nn

from piano_fusion.config import FusionConfig
from piano_fusion.fusions.base import Fusion, FusionOutput
from piano_fusion.pooling import AttentionPooling, ProjectionHead
from piano_fusion.validation import clean_frames

__all__ = ["CrossAttentionBlock", "CrossAttentionFusion"]


class CrossAttentionBlock(nn.Module):
    """Pre-norm cross-attention + feed-forward: ``x <- x + Attn(LN x, LN ctx); x <- x + FFN(LN x)``."""

    def __init__(self, d_model: int, n_heads: int, ffn_mult: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.norm_q = nn.LayerNorm(d_model)
        self.norm_kv = nn.LayerNorm(d_model)
        # no dropout on the [B, H, T, S] attention weights: on the CPU it cost a quarter of a training step
        self.attn = nn.MultiheadAttention(d_model, n_heads, dropout=0.0, batch_first=True)
        self.norm_ff = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(
            nn.Linear(d_model, ffn_mult * d_model),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(ffn_mult * d_model, d_model),
        )

    def forward(self, x: torch.Tensor, ctx: torch.Tensor, ctx_mask: torch.Tensor) -> torch.Tensor:
        """``x [B, T, d]`` attends to ``ctx [B, S, d]`` whose valid positions are ``ctx_mask [B, S]``."""
        kv = self.norm_kv(ctx)
        attended, _ = self.attn(self.norm_q(x), kv, kv, key_padding_mask=~ctx_mask, need_weights=False)
        x = x + attended
        return x + self.ff(self.norm_ff(x))


class CrossAttentionFusion(Fusion):
    """Sequences projected to ``d_model``; in every layer each modality attends to the concatenation of the
    others' sequences (padding masked out of the keys); each is then attention-pooled and projected to
    ``z_m``, and ``z = MLP([z_1; ...; z_M])``. Padding queries are computed but pooled with zero weight.
    """

    def __init__(self, modalities: Sequence[str], in_dims: Sequence[int], cfg: FusionConfig) -> None:
        super().__init__(modalities, in_dims, cfg)
        mods = self.modalities
        self.in_proj = nn.ModuleDict({m: nn.Linear(d, cfg.d_model) for m, d in zip(mods, self.in_dims, strict=True)})
        self.layers = nn.ModuleList(
            nn.ModuleDict({m: CrossAttentionBlock(cfg.d_model, cfg.n_heads, cfg.ffn_mult, cfg.dropout) for m in mods})
            for _ in range(cfg.n_layers)
        )
        self.pool = nn.ModuleDict({m: AttentionPooling(cfg.d_model, cfg.pool_hidden) for m in mods})
        self.project = nn.ModuleDict({m: ProjectionHead(cfg.d_model, cfg.z_dim, cfg.hidden, cfg.dropout) for m in mods})
        self.mlp = nn.Sequential(
            nn.Linear(len(mods) * cfg.z_dim, cfg.hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.z_dim),
        )

    def forward(self, outputs: Mapping[str, EncoderOutput]) -> FusionOutput:
        self.check(outputs)
        mods = self.modalities
        masks = {m: outputs[m].mask for m in mods}
        seqs = {m: self.in_proj[m](clean_frames(outputs[m])) for m in mods}
        for layer in self.layers:
            assert isinstance(layer, nn.ModuleDict)
            new = {}
            for m in mods:
                others = [o for o in mods if o != m]
                ctx = torch.cat([seqs[o] for o in others], dim=1)
                ctx_mask = torch.cat([masks[o] for o in others], dim=1)
                new[m] = layer[m](seqs[m], ctx, ctx_mask)
            seqs = new
        per = {m: self.project[m](self.pool[m](seqs[m], masks[m])) for m in mods}
        z = self.mlp(torch.cat([per[m] for m in mods], dim=-1))
        return FusionOutput(z=z.unsqueeze(1), per_modality=per)
