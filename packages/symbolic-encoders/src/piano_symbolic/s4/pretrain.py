"""S4 pretraining: masked deviation prediction + cross-performer contrast on aligned bar windows.

Targets are standardised by their training mean and std, so every target weighs the same. Every objective is
reported on held-out scores beside its trivial baseline: the masked MSE of each target against predicting the
training mean of that target (1.0 in standardised units on training data), the contrast against chance (the
loss of identical embeddings, ``log(B - 1)`` for a batch of ``B``), with the share of anchors whose nearest
neighbour is a window of the same bars (retrieval accuracy) against the share a random pick gets.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from piano_data.rng import seeded

from piano_symbolic.s4.config import S4Config
from piano_symbolic.s4.corpus import CorpusPair, Window, bar_windows
from piano_symbolic.s4.model import S4Encoder, collate_tokens, s4_encoder
from piano_symbolic.s4.tokens import TARGETS, NoteTokens

__all__ = ["PretrainSpec", "build_windows", "pretrain_s4"]


@dataclass(frozen=True)
class PretrainSpec:
    """How much to pretrain: ``window_bars``-bar windows, at most ``windows_per_score`` bar positions per score
    (the same positions for every performer of that score, so each window has cross-performer peers);
    PercePiano segments are one window each. ``steps`` AdamW steps of ``batch_size`` at ``lr`` (linear warm-up
    over the first 5%, cosine decay); ``val_frac`` of the scores held out for the report."""

    window_bars: int = 8
    windows_per_score: int = 6
    steps: int = 600
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.01
    val_frac: float = 0.1
    seed: int = 0


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def build_windows(items: Sequence[tuple[CorpusPair, NoteTokens]], spec: PretrainSpec, max_notes: int) -> list[Window]:
    """Bar windows of every aligned pair, grouped by (score, first bar)."""
    windows: list[Window] = []
    starts: dict[str, set[int]] = {}
    for pair, tokens in items:
        if pair.source == "percepiano":
            windows.append(Window(tokens.slice(0, max_notes), f"{pair.score}", pair.source))
            continue
        cut = bar_windows(tokens, spec.window_bars, max_notes)
        key = str(pair.score)
        if key not in starts:
            all_starts = sorted({s for s, _ in cut})
            rng = random.Random(spec.seed * 7919 + _stable(key))
            starts[key] = set(rng.sample(all_starts, min(spec.windows_per_score, len(all_starts))))
        windows += [Window(t, f"{key}@{s}", pair.source) for s, t in cut if s in starts[key]]
    return windows


def _batches(groups: Sequence[str | None], batch_size: int, seed: int) -> list[list[int]]:
    from piano_data.tiers.pieces import pair_batches

    return pair_batches(groups, batch_size, seed)


def _evaluate(
    model: S4Encoder,
    windows: Sequence[Window],
    gids: Sequence[int],
    mean: torch.Tensor,
    std: torch.Tensor,
    spec: PretrainSpec,
    piece_contrast: Callable[..., torch.Tensor],
) -> dict[str, Any]:
    model.eval()
    gen = torch.Generator().manual_seed(spec.seed + 1)
    se = torch.zeros(len(TARGETS))
    se_mean = torch.zeros(len(TARGETS))
    count = 0
    contrast, chance, hits, rand_hits, anchors = [], [], 0.0, 0.0, 0
    with torch.no_grad():
        for idx in _batches([w.group for w in windows], spec.batch_size, spec.seed + 1):
            batch = collate_tokens([windows[i].tokens for i in idx], model.cfg.max_notes)
            t = batch["mask"].shape[1]
            pick = (torch.rand(batch["mask"].shape, generator=gen) < model.cfg.mask_prob) & batch["mask"]
            sel = pick & batch["target_mask"][:, :t]
            pred = model.deviation_head(model.hidden({**batch, "masked": pick}))
            target = (batch["targets"][:, :t] - mean) / std
            se += ((pred - target) ** 2)[sel].sum(0)
            se_mean += (target**2)[sel].sum(0)
            count += int(sel.sum())
            group = torch.tensor([gids[i] for i in idx])
            out = model(batch)
            c = piece_contrast(out, group, model.projection, model.cfg.temperature)
            ones = lambda x: torch.ones(len(x), 2)  # noqa: E731 - identical embeddings: the chance loss
            if float(c) > 0:
                contrast.append(float(c))
                chance.append(float(piece_contrast(out, group, ones, model.cfg.temperature)))
            z = torch.nn.functional.normalize(
                model.projection(out.frames.sum(1) / out.mask.sum(1, keepdim=True)), dim=-1
            )
            sim = z @ z.T - 2 * torch.eye(len(idx))
            same = (group[:, None] == group[None, :]) & ~torch.eye(len(idx), dtype=torch.bool)
            has = same.any(1)
            if has.any() and len(idx) > 2:
                hits += float(same[torch.arange(len(idx)), sim.argmax(1)][has].sum())
                rand_hits += float((same.sum(1).float() / (len(idx) - 1))[has].sum())
                anchors += int(has.sum())
    model.train()
    mse = (se / max(count, 1)).tolist()
    base = (se_mean / max(count, 1)).tolist()
    return {
        "masked_mse": dict(zip(TARGETS, mse, strict=True)),
        "masked_mse_mean_baseline": dict(zip(TARGETS, base, strict=True)),
        "masked_mse_ratio": float(sum(mse) / max(sum(base), 1e-12)),
        "masked_notes": count,
        "contrast": float(np.mean(contrast)) if contrast else None,
        "contrast_chance": float(np.mean(chance)) if chance else None,
        "retrieval_accuracy": hits / anchors if anchors else None,
        "retrieval_chance": rand_hits / anchors if anchors else None,
    }


def pretrain_s4(
    cfg: S4Config,
    windows: Sequence[Window],
    spec: PretrainSpec,
    piece_contrast: Callable[..., torch.Tensor],
    *,
    log: Callable[[str], None] | None = None,
) -> tuple[S4Encoder, dict[str, Any]]:
    """Pretrain a fresh encoder on ``windows``; return it and the report (train curve, held-out losses and
    their trivial baselines, before and after training). ``piece_contrast`` is ``piano_fusion.piece_contrast``."""
    if not windows:
        raise ValueError("pretrain_s4: no windows to pretrain on")
    scores = sorted({(w.group or "").split("@")[0] for w in windows})
    rng = random.Random(spec.seed)
    rng.shuffle(scores)
    held = set(scores[: max(1, round(len(scores) * spec.val_frac))]) if len(scores) > 1 else set()
    train = [w for w in windows if (w.group or "").split("@")[0] not in held]
    val = [w for w in windows if (w.group or "").split("@")[0] in held]
    names = sorted({w.group for w in windows if w.group is not None})
    gid = {g: i for i, g in enumerate(names)}
    train_gids = [gid.get(w.group, -1) if w.group else -1 for w in train]
    val_gids = [gid.get(w.group, -1) if w.group else -1 for w in val]
    stacked = [torch.from_numpy(w.tokens.targets[w.tokens.target_mask]) for w in train]
    flat = torch.cat(stacked) if stacked else torch.zeros(2, len(TARGETS))
    mean, std = flat.mean(0), flat.std(0).clamp(min=1e-6)
    model = s4_encoder(cfg, seed=spec.seed)
    report: dict[str, Any] = {
        "train_windows": len(train),
        "val_windows": len(val),
        "groups": len(names),
        "sources": {src: sum(w.source == src for w in windows) for src in sorted({w.source for w in windows})},
        "target_mean": dict(zip(TARGETS, mean.tolist(), strict=True)),
        "target_std": dict(zip(TARGETS, std.tolist(), strict=True)),
    }
    if val:
        report["val_before"] = _evaluate(model, val, val_gids, mean, std, spec, piece_contrast)
    opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    warm = max(1, spec.steps // 20)

    def rate(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, spec.steps - warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, rate)
    gen = torch.Generator().manual_seed(spec.seed)
    model.train()
    step, epoch, curve = 0, 0, []
    running: dict[str, list[float]] = {"masked": [], "contrast": []}
    # dropout draws from the global generator: seed it for the loop (the caller's state is restored after), so the
    # same windows and spec give the same encoder in every process, whatever seeded the global generator before
    with seeded(spec.seed):
        while step < spec.steps:
            epoch += 1
            for idx in _batches([w.group for w in train], spec.batch_size, spec.seed * 1000 + epoch):
                if step >= spec.steps:
                    break
                batch = collate_tokens([train[i].tokens for i in idx], cfg.max_notes)
                batch["group_ids"] = torch.tensor([train_gids[i] for i in idx])
                batch["targets"] = (batch["targets"] - mean) / std
                losses = model.pretraining_loss(batch, piece_contrast, gen)
                opt.zero_grad()
                losses["loss"].backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                step += 1
                running["masked"].append(float(losses["masked"].detach()))
                running["contrast"].append(float(losses["contrast"].detach()))
                if step % 50 == 0 or step == spec.steps:
                    point = {"step": step, **{k: float(np.mean(v)) for k, v in running.items()}}
                    curve.append(point)
                    running = {"masked": [], "contrast": []}
                    if log is not None:
                        log(f"s4 pretrain step {step}: masked {point['masked']:.4f} contrast {point['contrast']:.3f}")
    report["train_curve"] = curve
    report["steps"] = step
    report["epochs"] = epoch
    if val:
        report["val_after"] = _evaluate(model, val, val_gids, mean, std, spec, piece_contrast)
    model.eval()
    return model, report
