"""``MultiTaskLoss``: every loss term of a :class:`PianoOutput` against a batch, and their weighted sum."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from piano_fusion.config import LossWeights
from piano_fusion.losses import (
    augmentation_invariance_loss,
    difficulty_loss,
    info_nce_loss,
    pairwise_ranking_loss,
    regression_loss,
    total_loss,
)
from piano_fusion.model import PianoOutput

__all__ = ["MultiTaskLoss"]


class MultiTaskLoss(nn.Module):
    """``L_total = w_reg L_reg + w_rank L_rank + w_nce L_nce + w_inv L_inv + w_diff L_diff``.

    Batch keys used: ``labels [B, 19]`` (NaN = unknown) for regression and ranking, ``piece`` (``[B]`` ids or
    a list of names) for ranking pairs and InfoNCE positives, ``difficulty [B]`` (NaN = unknown). The
    invariance term compares ``out.embedding`` with ``augmented.embedding``. A term whose weight is zero is
    not computed; a term whose signal is absent from the batch (missing key, no pairs, no augmented view) is
    an exact zero. Returns every computed term plus ``loss`` (the weighted sum).
    """

    def __init__(self, weights: LossWeights | None = None, difficulty_mode: str = "regression") -> None:
        super().__init__()
        self.weights = weights or LossWeights()
        self.difficulty_mode = difficulty_mode

    def forward(
        self, out: PianoOutput, batch: Mapping[str, Any], augmented: PianoOutput | None = None
    ) -> dict[str, torch.Tensor]:
        w = self.weights
        zero = out.quality.sum() * 0.0
        labels = batch.get("labels")
        piece = batch.get("piece")
        terms: dict[str, torch.Tensor] = {}
        if w.regression:
            terms["regression"] = zero if labels is None else regression_loss(out.quality, labels)
        if w.ranking:
            terms["ranking"] = (
                zero
                if labels is None or piece is None
                else pairwise_ranking_loss(out.ranking, labels, piece, w.ranking_margin)
            )
        if w.contrastive:
            terms["contrastive"] = zero if piece is None else info_nce_loss(out.embedding, piece, w.temperature)
        if w.invariance:
            terms["invariance"] = (
                zero if augmented is None else augmentation_invariance_loss(out.embedding, augmented.embedding)
            )
        if w.difficulty:
            target = batch.get("difficulty")
            terms["difficulty"] = (
                zero if target is None else difficulty_loss(out.difficulty, target, self.difficulty_mode)  # type: ignore[arg-type]
            )
        weights = {
            "regression": w.regression,
            "ranking": w.ranking,
            "contrastive": w.contrastive,
            "invariance": w.invariance,
            "difficulty": w.difficulty,
        }
        result = dict(terms)
        result["loss"] = total_loss(terms, weights) if terms else zero
        return result
