"""The training losses, each usable alone, and their weighted sum ``L_total``.

Every loss returns a scalar. A batch without the signal a loss needs (no finite label, no same-piece pair
beyond the margin, no anchor with both a positive and a negative) gives an exact zero that stays connected to
the graph (``x.sum() * 0``), never an error or a NaN. Labels may hold NaN: those entries are masked out.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F

__all__ = [
    "augmentation_invariance_loss",
    "difficulty_loss",
    "group_ids",
    "info_nce_loss",
    "pair_difference_loss",
    "pairwise_ranking_loss",
    "regression_loss",
    "total_loss",
]


def _zero(like: torch.Tensor) -> torch.Tensor:
    return like.sum() * 0.0


def group_ids(groups: torch.Tensor | Sequence[Hashable | None], device: torch.device | None = None) -> torch.Tensor:
    """Piece labels (ints, strings, anything hashable) -> a ``[B]`` long tensor of group ids.

    An unknown piece is ``None`` in a sequence or a negative id in a tensor; it maps to ``-1``, which the losses
    never pair with anything (it can still serve as a negative of InfoNCE).
    """
    if isinstance(groups, torch.Tensor):
        if groups.dim() != 1:
            raise ValueError(f"groups must be one id per sample [B], got shape {tuple(groups.shape)}")
        return groups.to(device=device, dtype=torch.long).clamp(min=-1)
    index: dict[Hashable, int] = {}
    return torch.tensor(
        [-1 if g is None else index.setdefault(g, len(index)) for g in groups], dtype=torch.long, device=device
    )


def _same_group(gid: torch.Tensor) -> torch.Tensor:
    """``[B, B]``: both pieces known and equal."""
    return (gid[:, None] == gid[None, :]) & (gid >= 0)[:, None]


def _check_pair(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{what}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")


def _same_group_differences(
    pred: torch.Tensor, labels: torch.Tensor, groups: torch.Tensor | Sequence[Hashable | None], what: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``[B, B, K]`` differences ``pred_i - pred_j``, ``labels_i - labels_j`` and the mask of the entries of pairs
    ``i < j`` of one known group whose label difference is finite."""
    _check_pair(pred, labels, what)
    gid = group_ids(groups, pred.device)
    if gid.shape[0] != pred.shape[0]:
        raise ValueError(f"{what}: {gid.shape[0]} groups for a batch of {pred.shape[0]}")
    dy = labels[:, None, :] - labels[None, :, :]
    n = pred.shape[0]
    upper = torch.ones(n, n, dtype=torch.bool, device=pred.device).triu(diagonal=1)
    return pred[:, None, :] - pred[None, :, :], dy, (_same_group(gid) & upper)[..., None] & torch.isfinite(dy)


def regression_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE over the finite entries of ``target`` (NaN labels are masked out); zero if none is finite."""
    _check_pair(pred, target, "regression_loss")
    valid = torch.isfinite(target)
    if not valid.any():
        return _zero(pred)
    err = (pred - target.nan_to_num(0.0)) ** 2
    return err[valid].mean()


def pairwise_ranking_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    groups: torch.Tensor | Sequence[Hashable | None],
    margin: float = 0.05,
) -> torch.Tensor:
    """Dimension-wise logistic (RankNet) loss on same-piece pairs.

    For every pair ``i < j`` of the same group and every dimension ``d`` with finite labels and
    ``|y_id - y_jd| >= margin``: ``softplus(-sign(y_id - y_jd) (s_id - s_jd))``, averaged over those
    (pair, dimension) entries. Pairs closer than ``margin`` are ignored. ``scores``, ``labels``: ``[B, K]``.
    """
    ds, dy, pair = _same_group_differences(scores, labels, groups, "pairwise_ranking_loss")
    valid = pair & (dy.abs() >= margin)
    if not valid.any():
        return _zero(scores)
    sign = torch.where(valid, torch.sign(dy.nan_to_num(0.0)), torch.zeros_like(ds))
    return F.softplus(-sign * ds)[valid].mean()


def pair_difference_loss(
    pred: torch.Tensor,
    labels: torch.Tensor,
    groups: torch.Tensor | Sequence[Hashable | None],
) -> torch.Tensor:
    """Squared error of the rating *differences* of same-piece pairs: a within-passage regression.

    For every pair ``i < j`` of the same group and every dimension ``d`` where both labels are finite:
    ``((p_id - p_jd) - (y_id - y_jd))^2``, averaged over those entries. It is blind to anything the performers
    of a passage share (the work's level), so it asks only how they differ, in rating units: the same scale as
    :func:`regression_loss`, unlike a ranking loss on scaled scores. ``pred``, ``labels``: ``[B, K]``.
    """
    dp, dy, valid = _same_group_differences(pred, labels, groups, "pair_difference_loss")
    if not valid.any():
        return _zero(pred)
    return ((dp - dy.nan_to_num(0.0)) ** 2)[valid].mean()


def info_nce_loss(
    z: torch.Tensor,
    groups: torch.Tensor | Sequence[Hashable | None],
    temperature: float = 0.1,
    *,
    exclude: torch.Tensor | Sequence[Hashable | None] | None = None,
) -> torch.Tensor:
    """Piece-based InfoNCE with several positives per anchor (supervised-contrastive form).

    Cosine similarities ``s_ia / temperature`` (computed in float32). The positives ``P(i)`` of an anchor ``i``
    are the other samples of the same known group; with ``exclude`` (e.g. performer ids) a sample sharing the
    anchor's ``exclude`` id is no positive (a cross-performer contrast). Unknown groups (``None``, negative ids)
    are nobody's positive but count as negatives. Loss per anchor:
    ``-1/|P(i)| sum_{p in P(i)} log(exp(s_ip) / sum_{a != i} exp(s_ia))``, averaged over the anchors that have
    at least one positive *and* one negative (a sample of another or an unknown group). A batch of a single
    piece (no negatives) or of all-different pieces (no positives) carries no contrastive signal: zero.
    """
    if z.dim() != 2:
        raise ValueError(f"info_nce_loss: z must be [B, D], got {tuple(z.shape)}")
    gid = group_ids(groups, z.device)
    if gid.shape[0] != z.shape[0]:
        raise ValueError(f"info_nce_loss: {gid.shape[0]} groups for a batch of {z.shape[0]}")
    n = z.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    same = _same_group(gid)
    pos = same & ~eye
    if exclude is not None:
        xid = group_ids(exclude, z.device)
        if xid.shape[0] != n:
            raise ValueError(f"info_nce_loss: {xid.shape[0]} exclude ids for a batch of {n}")
        pos &= ~_same_group(xid)
    negatives = ~same & ~eye
    anchors = pos.any(dim=1) & negatives.any(dim=1)
    if not anchors.any():
        return _zero(z)
    zn = F.normalize(z.float(), dim=-1)
    sim = (zn @ zn.T) / temperature
    log_prob = sim - torch.logsumexp(sim.masked_fill(eye, float("-inf")), dim=1, keepdim=True)
    per_anchor = -(log_prob.masked_fill(~pos, 0.0)).sum(dim=1) / pos.sum(dim=1).clamp(min=1)
    return per_anchor[anchors].mean()


def augmentation_invariance_loss(
    z_clean: torch.Tensor, z_aug: torch.Tensor, temperature: float = 0.1, stop_gradient_clean: bool = False
) -> torch.Tensor:
    """Clean-vs-augmented invariance as a symmetric InfoNCE: each sample must find its own augmented view.

    ``z_clean``, ``z_aug``: ``[B, D]``; cosine similarities ``/ temperature`` (float32); the mean of the
    cross-entropies clean->augmented and augmented->clean with the diagonal as targets. The other samples of the
    batch are the negatives, so (unlike a plain MSE) a collapsed embedding is not a minimum. A batch of one
    gives zero. ``stop_gradient_clean`` treats the clean view as a fixed target.
    """
    _check_pair(z_clean, z_aug, "augmentation_invariance_loss")
    if z_clean.dim() != 2:
        raise ValueError(f"augmentation_invariance_loss: z must be [B, D], got {tuple(z_clean.shape)}")
    if z_clean.shape[0] < 2:
        return _zero(z_aug) + (0.0 if stop_gradient_clean else _zero(z_clean))
    a = F.normalize((z_clean.detach() if stop_gradient_clean else z_clean).float(), dim=-1)
    b = F.normalize(z_aug.float(), dim=-1)
    logits = a @ b.T / temperature
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def difficulty_loss(
    pred: torch.Tensor, target: torch.Tensor, mode: Literal["regression", "ordinal"] = "regression"
) -> torch.Tensor:
    """Difficulty term; NaN targets are masked out.

    ``regression``: MSE between ``pred [B]`` and ``target [B]``. ``ordinal``: ``pred [B, L-1]`` cumulative
    logits, ``target [B]`` integer levels in ``0..L-1``; binary cross-entropy of ``logit_k`` against
    ``level > k``, averaged.
    """
    valid = torch.isfinite(target)
    if target.dim() != 1 or target.shape[0] != pred.shape[0]:
        raise ValueError(f"difficulty_loss: target must be [B={pred.shape[0]}], got {tuple(target.shape)}")
    if not valid.any():
        return _zero(pred)
    if mode == "regression":
        return regression_loss(pred, target)
    levels = target[valid]
    n_thr = pred.shape[-1]
    if (levels < 0).any() or (levels > n_thr).any() or (levels != levels.round()).any():
        raise ValueError(f"difficulty_loss: ordinal levels must be integers in 0..{n_thr}")
    ks = torch.arange(n_thr, device=pred.device, dtype=levels.dtype)
    cum = (levels[:, None] > ks[None, :]).to(pred.dtype)
    return F.binary_cross_entropy_with_logits(pred[valid], cum)


def total_loss(terms: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    """``L_total = sum_t weights[t] * terms[t]`` over the terms present; a missing weight is an error."""
    missing = [t for t in terms if t not in weights]
    if missing:
        raise KeyError(f"no weight for loss term(s) {missing}")
    if not terms:
        raise ValueError("total_loss needs at least one term")
    return torch.stack([weights[t] * v for t, v in terms.items()]).sum()
