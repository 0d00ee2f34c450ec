"""The trainable parts of ``s4``: its encoder for :class:`piano_fusion.EncoderRegressor` and the fold loop."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from piano_data.contracts import EncoderOutput
from piano_fusion import EncoderRegressor, TierObjective
from torch import nn

from piano_eval.training.tiers import tier_step

__all__ = [
    "AlignedNoteModel",
    "DeviationChannels",
    "NoteConv",
    "StateProjection",
    "batch_collate",
    "deviation_channels",
    "n_deviation_channels",
    "note_collate",
    "train_regressor",
]


class StateProjection(nn.Module):
    """The S4 output projection over frozen, cached body states: ``{"h" [B, T, d], "mask"}`` -> frames."""

    def __init__(self, out: nn.Linear) -> None:
        super().__init__()
        self.out = copy.deepcopy(out)
        self.output_dim = out.out_features

    def forward(self, batch: Mapping[str, Any]) -> EncoderOutput:
        mask = batch["mask"]
        return EncoderOutput(self.out(batch["h"]) * mask[..., None], mask)


def deviation_channels(
    deviation: torch.Tensor, status: torch.Tensor, context: torch.Tensor | None = None
) -> torch.Tensor:
    """A note's raw token channels ``[..., n_dev + n_status (+ n_context)]``: its S4 deviations, its status
    one-hot and (given ``context``) its score context."""
    from piano_symbolic.s4 import N_STATUS

    parts = [deviation, nn.functional.one_hot(status, N_STATUS).to(deviation.dtype)]
    return torch.cat(parts if context is None else [*parts, context], dim=-1)


def n_deviation_channels(context: bool) -> int:
    """How many channels :func:`deviation_channels` gives (with or without the score context)."""
    from piano_symbolic.s4 import CONTEXT_FEATURES, DEVIATION_FEATURES, N_STATUS

    return len(DEVIATION_FEATURES) + N_STATUS + (len(CONTEXT_FEATURES) if context else 0)


class DeviationChannels(nn.Module):
    """Appends each note's raw token channels (:func:`deviation_channels`, standardised by fixed ``mean`` and
    ``std`` from the training notes, clipped to +/-6; without them, placeholders 0 and 1 that a checkpoint's buffers
    or the fold's statistics replace) to the frames of ``body``; with ``body`` None the raw
    channels are the frames. Reads ``batch["deviation"]``, ``batch["status"]``, ``batch["mask"]`` (and
    ``batch["context"]`` with ``context``: the score context too, so attention can weigh notes by their place in
    the score), so pooled statistics see the performer's deviations themselves, not only what the frozen body
    made of them."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        body: nn.Module | None,
        mean: np.ndarray | None = None,
        std: np.ndarray | None = None,
        context: bool = False,
    ) -> None:
        super().__init__()
        n = n_deviation_channels(context)
        mean = np.zeros(n) if mean is None else mean
        std = np.ones(n) if std is None else std
        self.body = body
        self.context = context
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(np.asarray(std), dtype=torch.float32))
        self.output_dim = (int(body.output_dim) if body is not None else 0) + len(mean)  # type: ignore[arg-type]

    def forward(self, batch: Mapping[str, Any]) -> EncoderOutput:
        out = self.body(batch) if self.body is not None else None
        mask = out.mask if out is not None else batch["mask"]
        t = mask.shape[1]
        ctx = batch["context"][:, :t] if self.context else None
        raw = deviation_channels(batch["deviation"][:, :t], batch["status"][:, :t], ctx)
        raw = ((raw - self.mean) / self.std).clamp(-6.0, 6.0) * mask[..., None]
        return EncoderOutput(raw if out is None else torch.cat([out.frames, raw], -1), mask)


class NoteConv(nn.Module):
    """Each note frame of ``body`` joined with a learned view of its neighbours in score order: two 1-D
    convolutions of ``kernel`` notes and ``channels`` channels (GELU) over the frames, padding notes zeroed. Lets the
    pooling weigh and summarise what a note's deviations mean next to its neighbours' (a late note after late
    notes is a tempo change, after steady ones a stumble), which per-note channels alone cannot."""

    def __init__(self, body: nn.Module, channels: int, kernel: int = 5) -> None:
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"s4: note_conv_kernel must be odd and positive, got {kernel}")
        self.body = body
        dim = int(body.output_dim)  # type: ignore[arg-type]
        self.convs = nn.ModuleList(
            [
                nn.Conv1d(dim, channels, kernel, padding=kernel // 2),
                nn.Conv1d(channels, channels, kernel, padding=kernel // 2),
            ]
        )
        self.output_dim = dim + channels

    def forward(self, batch: Mapping[str, Any]) -> EncoderOutput:
        out = self.body(batch)
        mask = out.mask[:, None, :].to(out.frames.dtype)  # [B, 1, T]
        h = out.frames.transpose(1, 2) * mask
        for conv in self.convs:  # padding zeroed after each layer: a note's frame never depends on the batch's length
            h = nn.functional.gelu(conv(h)) * mask
        return EncoderOutput(torch.cat([out.frames, h.transpose(1, 2)], -1), out.mask)


class AlignedNoteModel(nn.Module):
    """S4 note frames, plus (``n_features`` > 0) one frame projected from the hand-crafted features.

    ``body`` is the S4 encoder (fine-tuned), a :class:`StateProjection` (frozen body) or None (the ablation
    without the learned part: the features frame alone). The pooling and head of ``EncoderRegressor`` see one
    sequence, so attention decides how much the features frame weighs against the notes.
    """

    def __init__(self, body: nn.Module | None, output_dim: int, n_features: int = 0) -> None:
        super().__init__()
        if body is None and n_features == 0:
            raise ValueError("s4: the model needs the learned encoder, the features, or both")
        self.body = body
        self.features = nn.Linear(n_features, output_dim) if n_features else None
        self.output_dim = output_dim

    def forward(self, batch: Mapping[str, Any]) -> EncoderOutput:
        frames, masks = [], []
        if self.features is not None:
            f = batch["features"]
            frames.append(self.features(f)[:, None])
            masks.append(torch.ones(len(f), 1, dtype=torch.bool))
        if self.body is not None:
            out = self.body(batch)
            frames.append(out.frames)
            masks.append(out.mask)
        return EncoderOutput(torch.cat(frames, 1), torch.cat(masks, 1))


Item = tuple[Any, np.ndarray, np.ndarray, str]  # (encoder input, features, labels, group)


def _batch(items: Sequence[Item], collate: Callable[[list[Any]], dict[str, Any]]) -> dict[str, Any]:
    out = dict(collate([it[0] for it in items]))
    out["features"] = torch.from_numpy(np.stack([it[1] for it in items]).astype(np.float32))
    out["labels"] = torch.from_numpy(np.stack([it[2] for it in items]).astype(np.float32))
    out["group"] = [it[3] for it in items]
    return out


def batch_collate(collate: Callable[[list[Any]], dict[str, Any]]) -> Callable[[list[Item]], dict[str, Any]]:
    """Items -> a model batch (the encoder input by ``collate`` plus features, labels and groups)."""
    return lambda items: _batch(items, collate)


def predict_items(
    model: EncoderRegressor, items: Sequence[Item], collate: Callable[[list[Any]], dict[str, Any]]
) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        preds = [model(_batch(items[k : k + 32], collate)).float().numpy() for k in range(0, len(items), 32)]
    return np.concatenate(preds) if preds else np.zeros((0, 19), dtype=np.float32)


def train_regressor(
    model: EncoderRegressor,
    train: Any,
    val: Sequence[Item],
    collate: Callable[[list[Any]], dict[str, Any]],
    *,
    epochs: int,
    lr: float,
    patience: int,
    objective: TierObjective,
    weight_decay: float = 0.01,
) -> dict[str, Any]:
    """AdamW on ``model.param_groups(lr)`` over ``train``, a :class:`piano_data.TierMixer` of ``(tier, batch)``
    (:func:`piano_eval.training.tier_loader`), each batch trained on its ``objective`` term; keeps the weights of
    the epoch with the lowest validation MSE (stops after ``patience`` epochs without improvement). Returns the
    history."""
    opt = torch.optim.AdamW(model.param_groups(lr), weight_decay=weight_decay)
    best, best_state, bad, history = float("inf"), copy.deepcopy(model.state_dict()), 0, []
    y_val = np.stack([it[2] for it in val]) if val else None
    for epoch in range(1, epochs + 1):
        model.train()
        losses = []
        train.set_epoch(epoch)
        for tier, batch in train:
            loss = tier_step(model, tier, batch, objective)["loss"]
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(float(loss.detach()))
        val_mse = float(np.mean((predict_items(model, val, collate) - y_val) ** 2)) if y_val is not None else 0.0
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "val_mse": val_mse})
        if val_mse < best - 1e-6:
            best, best_state, bad = val_mse, copy.deepcopy(model.state_dict()), 0
        else:
            bad += 1
            if bad >= patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return {"epochs": len(history), "best_val_mse": best, "history": history}


def note_collate(config: Mapping[str, Any], max_notes: int) -> Callable[[list[Any]], dict[str, Any]]:
    """The batch collate of S4's fine-tuning inputs under ``config``.

    With a fully fine-tuned body the inputs are note tokens (:func:`piano_symbolic.s4.collate_tokens`); otherwise
    each input is ``(frozen-body states or None, tokens)`` and the batch holds the raw note channels
    (``raw_deviations``) and/or the padded states ``h`` with their ``mask`` (``learned``).
    """
    from piano_symbolic.s4 import collate_tokens

    if config["learned"] and config["finetune"] == "full":
        return lambda xs: collate_tokens(xs, max_notes)

    def states(xs: list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if config["raw_deviations"]:
            tokens = collate_tokens([x[1] for x in xs], max_notes)
            out = {k: tokens[k] for k in ("deviation", "status", "context", "mask")}
        if config["learned"]:
            hs = [x[0] for x in xs]
            length = max(1, max(len(x) for x in hs))
            h = torch.zeros(len(xs), length, hs[0].shape[1])
            mask = torch.zeros(len(xs), length, dtype=torch.bool)
            for i, x in enumerate(hs):
                h[i, : len(x)], mask[i, : len(x)] = x, True
            out.update(h=h, mask=mask)
        return out

    return states
