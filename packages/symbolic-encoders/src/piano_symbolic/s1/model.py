"""S1: a Transformer encoder over REMI token ids, pretrained by BERT-style masked-token prediction."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from piano_data.contracts import EncoderOutput, PieceContrast
from torch import nn

from piano_symbolic.common import ContrastiveProjection, chunked, with_piece_contrast
from piano_symbolic.s1.config import S1Config

__all__ = ["S1Transformer", "mask_tokens"]


def mask_tokens(
    ids: torch.Tensor,
    valid: torch.Tensor,
    *,
    mask_id: int,
    special_ids: tuple[int, ...],
    vocab_size: int,
    prob: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT corruption: pick ``prob`` of the real tokens; 80% -> MASK, 10% -> random token, 10% kept.

    Returns ``(corrupted_ids, targets)`` with targets ``-100`` where nothing is predicted. At least one token
    of
    the batch is always picked.
    """
    maskable = valid.clone()
    for s in special_ids:
        maskable &= ids != s
    u = torch.rand(ids.shape, generator=generator, device=ids.device)
    picked = (u < prob) & maskable
    if not bool(picked.any()) and bool(maskable.any()):
        first = maskable.flatten().nonzero()[0, 0]
        picked.view(-1)[first] = True
    targets = torch.where(picked, ids, torch.full_like(ids, -100))
    r = torch.rand(ids.shape, generator=generator, device=ids.device)
    out = ids.clone()
    out[picked & (r < 0.8)] = mask_id
    lo = len(special_ids)
    rand_tok = torch.randint(lo, vocab_size, ids.shape, generator=generator, device=ids.device)
    swap = picked & (r >= 0.8) & (r < 0.9)
    out[swap] = rand_tok[swap]
    return out, targets


class S1Transformer(nn.Module):
    """Token embedding + learned positions + pre-norm Transformer encoder, projected to ``output_dim``.

    ``forward(batch)`` with ``batch = {"ids": [B, L] long, "mask": [B, L] bool}`` returns an
    :class:`EncoderOutput` ``[B, L, output_dim]``. ``pretraining_loss(batch, piece_contrast)`` reads
    ``group_ids [B]`` (optional, ``-1`` = unknown piece) for the cross-performer contrastive term.
    """

    def __init__(self, cfg: S1Config, *, mask_id: int = 3, special_ids: tuple[int, ...] = (0, 1, 2, 3)) -> None:
        super().__init__()
        self.cfg = cfg
        self.output_dim = cfg.output_dim
        self.mask_id = mask_id
        self.special_ids = tuple(special_ids)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        layer = nn.TransformerEncoderLayer(
            cfg.d_model,
            cfg.n_heads,
            cfg.d_ff,
            cfg.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.output_dim)
        self.mlm_head = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_model), nn.GELU(), nn.LayerNorm(cfg.d_model))
        self.mlm_bias = nn.Parameter(torch.zeros(cfg.vocab_size))
        self.contrast = ContrastiveProjection(cfg.output_dim)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos.weight, std=0.02)

    def _encode_window(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        h = self.embed(ids) + self.pos(pos)[None]
        h = self.encoder(h, src_key_padding_mask=~mask)
        return self.norm(h)

    def hidden(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[B, L, d_model]`` hidden states, long inputs encoded in windows of ``max_len`` tokens."""
        return chunked(self._encode_window, ids, mask, self.cfg.max_len)

    def body(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states before the output projection ``[B, L, d_model]`` and their mask."""
        mask = batch["mask"].bool()
        return self.hidden(batch["ids"], mask), mask

    def forward(self, batch: dict[str, torch.Tensor]) -> EncoderOutput:
        h, mask = self.body(batch)
        return EncoderOutput(self.out(h) * mask.unsqueeze(-1), mask)

    def pretraining_loss(
        self, batch: dict[str, torch.Tensor], piece_contrast: PieceContrast | None = None
    ) -> dict[str, torch.Tensor]:
        """Masked-token cross-entropy (+ ``contrastive_weight`` x ``piece_contrast`` on ``group_ids`` when given)."""
        ids, mask = batch["ids"], batch["mask"].bool()
        corrupted, targets = mask_tokens(
            ids,
            mask,
            mask_id=self.mask_id,
            special_ids=self.special_ids,
            vocab_size=self.cfg.vocab_size,
            prob=self.cfg.mask_prob,
        )
        h = self.hidden(corrupted, mask)
        sel = targets >= 0
        logits = self.mlm_head(h[sel]) @ self.embed.weight.t() + self.mlm_bias
        mlm = F.cross_entropy(logits, targets[sel])
        return with_piece_contrast(
            {"mlm": mlm},
            mlm,
            batch,
            piece_contrast,
            lambda: EncoderOutput(self.out(h) * mask.unsqueeze(-1), mask),
            self.contrast,
            temperature=self.cfg.temperature,
            weight=self.cfg.contrastive_weight,
        )
