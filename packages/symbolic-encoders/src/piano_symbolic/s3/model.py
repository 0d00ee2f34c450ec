"""S3: 1D-CNN + Transformer over MIDI curves, pretrained like wav2vec 2.0.

Pretraining masks spans of CNN frames, quantizes the unmasked CNN frames with a Gumbel-softmax product
quantizer, and asks the Transformer output at each masked frame to pick its quantized target among
``n_distractors`` quantized frames of the same sequence (cosine similarity / ``logit_temperature``), plus the
codebook diversity penalty ``(G V - sum_g perplexity_g) / (G V)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from piano_data.contracts import EncoderOutput, PieceContrast
from torch import nn

from piano_symbolic.common import ContrastiveProjection, chunked, sinusoidal_positions, with_piece_contrast
from piano_symbolic.s3.config import S3Config
from piano_symbolic.s3.curves import N_CHANNELS

__all__ = ["GumbelQuantizer", "S3CurveEncoder", "span_mask"]


def span_mask(valid: torch.Tensor, start_prob: float, span: int) -> torch.Tensor:
    """Boolean ``[B, T]`` mask of spans of ``span`` frames starting with probability ``start_prob``.

    Only valid frames are masked; every sequence with at least two valid frames gets at least one masked frame
    and keeps at least one unmasked.
    """
    b, t = valid.shape
    starts = (torch.rand(b, t, device=valid.device) < start_prob) & valid
    lengths = valid.sum(1)
    empty = ~starts.any(1) & (lengths >= 2)
    if bool(empty.any()):
        pick = (torch.rand(b, device=valid.device) * lengths.clamp_min(1)).long()
        starts[empty, pick[empty]] = True
    mask = starts.clone()
    for k in range(1, span):
        mask[:, k:] |= starts[:, :-k]
    mask &= valid
    full = mask.sum(1) >= lengths
    if bool(full.any()):  # keep one frame unmasked
        last = (lengths - 1).clamp_min(0)
        mask[full, last[full]] = False
    return mask


class GumbelQuantizer(nn.Module):
    """Product quantizer with ``groups`` codebooks of ``codes`` entries, chosen by Gumbel softmax."""

    def __init__(self, dim: int, groups: int, codes: int, code_dim: int, tau: float) -> None:
        super().__init__()
        self.groups, self.codes, self.tau = groups, codes, tau
        self.logits = nn.Linear(dim, groups * codes)
        self.codebook = nn.Parameter(torch.randn(groups, codes, code_dim // groups) * 0.1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``z [N, dim]`` -> (quantized ``[N, code_dim]``, code ids ``[N, groups]``, diversity loss)."""
        logits = self.logits(z).view(-1, self.groups, self.codes)
        if self.training:
            onehot = F.gumbel_softmax(logits.float(), tau=self.tau, hard=True, dim=-1)
        else:
            onehot = F.one_hot(logits.argmax(-1), self.codes).float()
        q = torch.einsum("ngv,gvd->ngd", onehot.to(self.codebook.dtype), self.codebook).flatten(1)
        probs = logits.float().softmax(-1).mean(0)  # [G, V]
        perplexity = torch.exp(-(probs * (probs + 1e-7).log()).sum(-1)).sum()
        total = self.groups * self.codes
        return q, logits.argmax(-1), (total - perplexity) / total


class S3CurveEncoder(nn.Module):
    """``forward({"curves": [B, T, 265], "mask": [B, T]})`` -> :class:`EncoderOutput` at ``fps / stride``."""

    def __init__(self, cfg: S3Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.output_dim = cfg.output_dim
        d = cfg.d_model
        # the first conv patchifies: non-overlapping windows of ``stride`` frames (input padded to a multiple)
        convs: list[nn.Module] = [nn.Conv1d(N_CHANNELS, d, cfg.stride, stride=cfg.stride), nn.GELU()]
        for _ in range(cfg.n_conv - 1):
            convs += [nn.Conv1d(d, d, 3, padding=1), nn.GELU()]
        self.cnn = nn.Sequential(*convs)
        self.feat_norm = nn.LayerNorm(d)
        self.mask_emb = nn.Parameter(torch.randn(d) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d, cfg.n_heads, cfg.d_ff, cfg.dropout, "gelu", batch_first=True, norm_first=True
        )
        self.context = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, cfg.output_dim)
        self.quantizer = GumbelQuantizer(d, cfg.groups, cfg.codes, cfg.code_dim, cfg.gumbel_tau)
        self.project_q = nn.Linear(cfg.code_dim, cfg.code_dim)
        self.project_c = nn.Linear(d, cfg.code_dim)
        self.contrast = ContrastiveProjection(cfg.output_dim)

    def features(self, curves: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """CNN frames ``[B, T', d]`` and their validity ``[B, T']`` (a frame is valid if its first input
        is).
        """
        pad = -curves.shape[1] % self.cfg.stride
        x = F.pad(curves * mask.unsqueeze(-1), (0, 0, 0, pad))
        z = self.cnn(x.transpose(1, 2)).transpose(1, 2)
        valid = mask[:, :: self.cfg.stride][:, : z.shape[1]]
        if valid.shape[1] < z.shape[1]:
            valid = F.pad(valid, (0, z.shape[1] - valid.shape[1]), value=False)
        return self.feat_norm(z), valid

    def _context_window(self, z: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        h = z + sinusoidal_positions(z.shape[1], z.shape[2], z.device)[None]
        return self.norm(self.context(h, src_key_padding_mask=~valid))

    def contextualize(self, z: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        return chunked(self._context_window, z, valid, self.cfg.max_frames)

    def body(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Context states before the output projection ``[B, T', d_model]`` and their mask."""
        z, valid = self.features(batch["curves"], batch["mask"].bool())
        return self.contextualize(z, valid), valid

    def forward(self, batch: dict[str, torch.Tensor]) -> EncoderOutput:
        c, valid = self.body(batch)
        return EncoderOutput(self.out(c) * valid.unsqueeze(-1), valid)

    def pretraining_loss(
        self, batch: dict[str, torch.Tensor], piece_contrast: PieceContrast | None = None
    ) -> dict[str, torch.Tensor]:
        """wav2vec 2.0 contrastive + diversity (+ ``contrastive_weight`` x ``piece_contrast`` on ``group_ids``
        when given)."""
        cfg = self.cfg
        z, valid = self.features(batch["curves"], batch["mask"].bool())
        masked = span_mask(valid, cfg.mask_start_prob, cfg.mask_span)
        z_in = torch.where(masked.unsqueeze(-1), self.mask_emb.to(z.dtype), z)
        c = self.contextualize(z_in, valid)
        q_all, _, diversity = self.quantizer(z[valid])
        q = z.new_zeros(*z.shape[:2], q_all.shape[-1])
        q[valid] = q_all.to(q.dtype)
        q = self.project_q(q)
        bi, ti = masked.nonzero(as_tuple=True)
        lengths = valid.sum(1)[bi]
        k = cfg.n_distractors
        neg_t = (torch.rand(len(bi), k, device=z.device) * (lengths[:, None] - 1).clamp_min(1)).long()
        neg_t = neg_t + (neg_t >= ti[:, None]).long()
        neg_t = torch.minimum(neg_t, (lengths[:, None] - 1).clamp_min(0))
        cands = torch.cat([q[bi, ti].unsqueeze(1), q[bi[:, None], neg_t]], 1)  # [M, 1 + K, code_dim]
        pred = self.project_c(c[bi, ti]).unsqueeze(1)
        logits = F.cosine_similarity(pred.float(), cands.float(), dim=-1) / cfg.logit_temperature
        same = (neg_t == ti[:, None]) | (cands[:, 1:] == cands[:, :1]).all(-1)
        logits[:, 1:] = logits[:, 1:].masked_fill(same, float("-inf"))
        contrastive = F.cross_entropy(logits, torch.zeros(len(bi), dtype=torch.long, device=z.device))
        loss = contrastive + cfg.diversity_weight * diversity
        return with_piece_contrast(
            {"wav2vec_contrastive": contrastive, "diversity": diversity},
            loss,
            batch,
            piece_contrast,
            lambda: EncoderOutput(self.out(c) * valid.unsqueeze(-1), valid),
            self.contrast,
            temperature=cfg.temperature,
            weight=cfg.contrastive_weight,
        )
