"""The training objectives built from :mod:`piano_fusion.losses`.

``MultiTaskLoss``: every loss term of a :class:`PianoOutput` against a batch, and their weighted sum.
``QualityObjective``: MSE + same-piece ranking on a quality prediction (every single-encoder experiment).
``piece_contrast``: pool -> project -> piece InfoNCE on an encoder's states (the encoders' pretraining term).
``TierObjective``: the one fine-tuning objective over the data tiers: T1 regression (+ same-piece ranking),
T2 ordinal-pair ranking (:func:`ordinal_pair_loss`), T3 same-piece contrast (:func:`pair_contrast_loss`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from piano_data.contracts import EncoderOutput
from torch import nn

from piano_fusion.config import LossWeights
from piano_fusion.losses import (
    augmentation_invariance_loss,
    difficulty_loss,
    info_nce_loss,
    pair_difference_loss,
    pairwise_ranking_loss,
    regression_loss,
    total_loss,
)
from piano_fusion.model import PianoOutput
from piano_fusion.pooling import masked_mean

__all__ = [
    "MultiTaskLoss",
    "QualityObjective",
    "TierObjective",
    "ordinal_pair_loss",
    "pair_contrast_loss",
    "piece_contrast",
]


@dataclass(frozen=True)
class QualityObjective:
    """``loss = MSE + rank_weight x RankNet + difference_weight x pair difference`` on a ``[B, 19]`` prediction.

    Both pair terms use the same-piece pairs of the batch; the prediction is a quality rating in [0, 1].

    The ranking scores are ``pred / temperature``: scaling the predictions (rather than taking their logits or
    a separate head) keeps the two terms compatible: ranking a pair correctly needs prediction gaps of the size
    of the rating gaps, not ever wider spreads that ruin the MSE. Called as ``objective(pred, batch)`` with
    ``batch["labels"] [B, 19]`` (NaN = unknown) and ``batch["group"]`` (one piece id per sample); returns
    ``{"loss", "mse", "rank"}``, and ``"difference"`` when its weight is not 0: that term
    (:func:`pair_difference_loss`) regresses how the performers of a passage differ, in rating units.
    """

    rank_weight: float = 0.1
    temperature: float = 0.02
    margin: float = 0.05
    difference_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"QualityObjective: temperature must be > 0, got {self.temperature}")

    def __call__(self, pred: torch.Tensor, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        labels = batch["labels"].to(pred.dtype)
        mse = regression_loss(pred, labels)
        rank = pairwise_ranking_loss(pred / self.temperature, labels, batch["group"], self.margin)
        out = {"loss": mse + self.rank_weight * rank, "mse": mse, "rank": rank}
        if self.difference_weight:
            out["difference"] = pair_difference_loss(pred, labels, batch["group"])
            out["loss"] = out["loss"] + self.difference_weight * out["difference"]
        return out


def piece_contrast(
    out: EncoderOutput,
    groups: torch.Tensor | Sequence[Hashable | None],
    projection: Callable[[torch.Tensor], torch.Tensor],
    temperature: float = 0.1,
    exclude: torch.Tensor | Sequence[Hashable | None] | None = None,
) -> torch.Tensor:
    """Masked mean of ``out`` -> ``projection`` -> :func:`~piano_fusion.losses.info_nce_loss` over ``groups``.

    Implements :class:`piano_data.contracts.PieceContrast`: encoders take it as an argument of their
    ``pretraining_loss`` (they never import this package), with their own projection head.
    """
    return info_nce_loss(projection(masked_mean(out.frames, out.mask)), groups, temperature, exclude=exclude)


def ordinal_pair_loss(better: torch.Tensor, worse: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """T2: RankNet on ordinal pairs, ``better[i]`` placed above ``worse[i]``: ``softplus(-(s_b - s_w) / T)``.

    ``better``, ``worse``: ``[B]`` or ``[B, K]`` scores (a ``[B, K]`` quality prediction is ranked by its mean
    over the ``K`` dimensions: a placement is one overall judgement). Computed by
    :func:`~piano_fusion.losses.pairwise_ranking_loss` with each pair as its own group (the one ranking loss).
    """
    if better.shape != worse.shape:
        raise ValueError(f"ordinal_pair_loss: shapes differ, {tuple(better.shape)} vs {tuple(worse.shape)}")
    if temperature <= 0:
        raise ValueError(f"ordinal_pair_loss: temperature must be > 0, got {temperature}")
    a = better.mean(dim=-1) if better.dim() == 2 else better
    b = worse.mean(dim=-1) if worse.dim() == 2 else worse
    n = a.shape[0]
    scores = torch.cat([a, b])[:, None] / temperature
    labels = torch.cat([torch.ones(n), torch.zeros(n)]).to(scores)[:, None]
    pair = torch.arange(n, device=scores.device).repeat(2)
    return pairwise_ranking_loss(scores, labels, pair, margin=0.0)


def pair_contrast_loss(
    z_a: torch.Tensor, z_b: torch.Tensor, pieces: Sequence[Hashable | None] | torch.Tensor, temperature: float = 0.1
) -> torch.Tensor:
    """T3: :func:`~piano_fusion.losses.info_nce_loss` over ``[z_a; z_b]`` (``[2B, D]``), grouped by piece.

    ``z_a[i]`` and ``z_b[i]`` are two performances of ``pieces[i]``: positives of each other (and of any other
    pair of the same piece in the batch); the other pieces are the negatives.
    """
    if z_a.shape != z_b.shape:
        raise ValueError(f"pair_contrast_loss: shapes differ, {tuple(z_a.shape)} vs {tuple(z_b.shape)}")
    groups = torch.cat([pieces, pieces]) if isinstance(pieces, torch.Tensor) else [*pieces, *pieces]
    return info_nce_loss(torch.cat([z_a, z_b]), groups, temperature)


LabelledLoss = Callable[[torch.Tensor, Mapping[str, Any]], Mapping[str, torch.Tensor]]


@dataclass(frozen=True)
class TierObjective:
    """The fine-tuning objective of every learned experiment, one method per data tier.

    Each method returns ``{"loss": weighted term, <term>: unweighted value}``:

    - :meth:`labelled` (T1): ``labelled(pred, batch)``, by default :class:`QualityObjective` (MSE + same-piece
      RankNet); a fusion model passes its own (:class:`MultiTaskLoss` over its heads).
    - :meth:`ordinal` (T2): ``ordinal_weight`` x :func:`ordinal_pair_loss` on the quality predictions of the
      better and the worse recording, at ``rank_temperature``.
    - :meth:`contrast` (T3): ``contrast_weight`` x :func:`pair_contrast_loss` on pooled embeddings.
    """

    labelled_loss: LabelledLoss = QualityObjective()
    ordinal_weight: float = 0.5
    rank_temperature: float = 0.02
    contrast_weight: float = 0.1
    contrast_temperature: float = 0.1

    def labelled(self, pred: torch.Tensor, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        return dict(self.labelled_loss(pred, batch))

    def ordinal(self, better: torch.Tensor, worse: torch.Tensor) -> dict[str, torch.Tensor]:
        rank = ordinal_pair_loss(better, worse, self.rank_temperature)
        return {"loss": self.ordinal_weight * rank, "ordinal_rank": rank}

    def contrast(
        self, z_a: torch.Tensor, z_b: torch.Tensor, pieces: Sequence[Hashable | None] | torch.Tensor
    ) -> dict[str, torch.Tensor]:
        nce = pair_contrast_loss(z_a, z_b, pieces, self.contrast_temperature)
        return {"loss": self.contrast_weight * nce, "contrast": nce}


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
                zero
                if augmented is None
                else augmentation_invariance_loss(out.embedding, augmented.embedding, w.temperature)
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
