"""The S4 aligned-note encoder: score-note tokens with performance deviations -> ``EncoderOutput``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from piano_data.contracts import EncoderOutput
from torch import nn

from piano_symbolic.s4.config import S4Config
from piano_symbolic.s4.tokens import CONTEXT_FEATURES, DEVIATION_FEATURES, N_STATUS, TARGETS, NoteTokens

__all__ = ["S4Encoder", "collate_tokens", "s4_encoder"]


def collate_tokens(items: Sequence[NoteTokens], max_notes: int | None = None) -> dict[str, torch.Tensor]:
    """Pad a list of :class:`NoteTokens` into a batch (``mask`` True on real tokens; tails past ``max_notes``
    dropped)."""
    items = [t.slice(0, max_notes) if max_notes else t for t in items]
    b, length = len(items), max(1, max(len(t) for t in items))
    out = {
        "pitch": torch.zeros(b, length, dtype=torch.long),
        "status": torch.zeros(b, length, dtype=torch.long),
        "context": torch.zeros(b, length, len(CONTEXT_FEATURES)),
        "deviation": torch.zeros(b, length, len(DEVIATION_FEATURES)),
        "targets": torch.zeros(b, length, len(TARGETS)),
        "target_mask": torch.zeros(b, length, dtype=torch.bool),
        "bar": torch.zeros(b, length, dtype=torch.long),
        "mask": torch.zeros(b, length, dtype=torch.bool),
    }
    for i, t in enumerate(items):
        n = len(t)
        out["pitch"][i, :n] = torch.from_numpy(t.pitch)
        out["status"][i, :n] = torch.from_numpy(t.status)
        out["context"][i, :n] = torch.from_numpy(t.context)
        out["deviation"][i, :n] = torch.from_numpy(t.deviation)
        out["targets"][i, :n] = torch.from_numpy(t.targets)
        out["target_mask"][i, :n] = torch.from_numpy(t.target_mask)
        out["bar"][i, :n] = torch.from_numpy(t.bar - (t.bar.min() if n else 0))
        out["mask"][i, :n] = True
    return out


class S4Encoder(nn.Module):
    """Embeds each score-note token (pitch, status, relative bar, score context, deviations), runs the body,
    projects to ``output_dim``.

    ``forward(batch)`` takes :func:`collate_tokens` output; an optional ``batch["masked"]`` ``[B, T]`` bool hides
    those tokens' deviations behind a learned mask vector. :meth:`pretraining_loss` adds the masked deviation
    prediction and the cross-performer contrast.
    """

    def __init__(self, cfg: S4Config) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.output_dim = cfg.output_dim
        self.pitch = nn.Embedding(128, d)
        self.status = nn.Embedding(N_STATUS, d)
        self.bar = nn.Embedding(cfg.max_bars, d)
        self.position = nn.Embedding(cfg.max_notes, d)
        self.context = nn.Linear(len(CONTEXT_FEATURES), d)
        self.deviation = nn.Linear(len(DEVIATION_FEATURES), d)
        self.mask_vector = nn.Parameter(torch.zeros(d))
        self.norm_in = nn.LayerNorm(d)
        self.drop = nn.Dropout(cfg.dropout)
        self.body: nn.Module
        if cfg.body == "transformer":
            layer = nn.TransformerEncoderLayer(
                d, cfg.n_heads, cfg.d_ff, cfg.dropout, batch_first=True, norm_first=True, activation="gelu"
            )
            self.body = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        else:
            self.body = nn.GRU(d, d // 2, cfg.n_layers, batch_first=True, bidirectional=True, dropout=0.0)
        self.norm_out = nn.LayerNorm(d)
        self.out = nn.Linear(d, cfg.output_dim)
        self.deviation_head = nn.Linear(d, len(TARGETS))
        self.projection = nn.Sequential(
            nn.Linear(cfg.output_dim, cfg.output_dim), nn.GELU(), nn.Linear(cfg.output_dim, cfg.contrast_dim)
        )

    def hidden(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """``[B, T, d_model]`` states before the output projection."""
        mask = batch["mask"][:, : self.cfg.max_notes]
        t = mask.shape[1]
        dev = batch["deviation"][:, :t]
        masked = batch.get("masked")
        x = (
            self.pitch(batch["pitch"][:, :t])
            + self.status(batch["status"][:, :t])
            + self.bar(batch["bar"][:, :t].clamp(0, self.cfg.max_bars - 1))
            + self.position(torch.arange(t, device=mask.device))[None]
            + self.context(batch["context"][:, :t])
        )
        if masked is None:
            x = x + self.deviation(dev)
        else:
            m = masked[:, :t, None].to(dev.dtype)
            x = x + self.deviation(dev * (1 - m)) + m * self.mask_vector
        x = self.drop(self.norm_in(x))
        if self.cfg.body == "transformer":
            h = self.body(x, src_key_padding_mask=~mask)
        else:
            lengths = mask.sum(1).clamp(min=1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            h, _ = self.body(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=t)
        return self.norm_out(h) * mask[..., None]  # type: ignore[no-any-return]

    def forward(self, batch: Mapping[str, Any]) -> EncoderOutput:
        mask = batch["mask"][:, : self.cfg.max_notes]
        return EncoderOutput(self.out(self.hidden(batch)) * mask[..., None], mask)

    def pretraining_loss(
        self,
        batch: Mapping[str, Any],
        piece_contrast: Callable[..., torch.Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """``{"loss", "masked", "contrast"}``: MSE of :data:`TARGETS` at masked matched tokens (deviations
        hidden), plus ``contrast_weight`` x ``piece_contrast`` over ``batch["group_ids"]`` on the unmasked view
        (zero without a contrast or group ids)."""
        mask = batch["mask"][:, : self.cfg.max_notes]
        t = mask.shape[1]
        pick = (torch.rand(mask.shape, generator=generator) < self.cfg.mask_prob).to(mask.device) & mask
        h = self.hidden({**batch, "masked": pick})
        sel = pick & batch["target_mask"][:, :t]
        pred = self.deviation_head(h)
        masked = ((pred - batch["targets"][:, :t]) ** 2)[sel].mean() if sel.any() else pred.sum() * 0.0
        contrast = masked * 0.0
        if piece_contrast is not None and "group_ids" in batch:
            out = self(batch)
            contrast = piece_contrast(out, batch["group_ids"], self.projection, self.cfg.temperature)
        return {"loss": masked + self.cfg.contrast_weight * contrast, "masked": masked, "contrast": contrast}


def s4_encoder(cfg: S4Config, seed: int | None = None) -> S4Encoder:
    """Build an :class:`S4Encoder` (seeded without touching the caller's global random state when ``seed`` is
    given)."""
    if seed is None:
        return S4Encoder(cfg)
    from piano_data.rng import seeded

    with seeded(seed):
        return S4Encoder(cfg)
