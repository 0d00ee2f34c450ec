"""A3: gradual unfreezing of MuQ layers (12 -> 11 -> 10 -> 9) with discriminative learning rates.

Every layer that will ever be trained gets its own optimizer parameter group from the start, with a rate that
shrinks with depth below the top layer (``top_lr * decay ** (top - layer)``), so one cosine schedule scales
all
groups consistently. The :class:`GradualUnfreezing` callback only flips ``requires_grad`` at the scheduled
steps or epochs; AdamW skips parameters that have no gradient, so a frozen group costs nothing and decays
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import lightning as L
from torch import nn

from piano_audio.backbone import MuQBackbone

__all__ = ["GradualUnfreezing", "UnfreezeSchedule", "discriminative_param_groups"]


@dataclass(frozen=True)
class UnfreezeSchedule:
    """Which layer is unfrozen when. ``layers[i]`` becomes trainable at ``at[i]`` (steps or epochs).

    ``top_lr`` is the rate of the first (top) layer; each layer below gets ``decay`` times the rate of the
    layer
    above it (deeper layers get smaller rates). ``head_lr_factor`` scales the trainer's base rate for the
    head.
    """

    layers: tuple[int, ...] = (12, 11, 10, 9)
    at: tuple[int, ...] = (0, 1, 2, 3)
    unit: Literal["step", "epoch"] = "epoch"
    top_lr: float = 2e-5
    decay: float = 0.5

    def __post_init__(self) -> None:
        if len(self.layers) != len(self.at):
            raise ValueError(f"layers {self.layers} and at {self.at} must have the same length")
        if list(self.at) != sorted(self.at):
            raise ValueError(f"unfreeze times must be non-decreasing, got {self.at}")
        if not 0.0 < self.decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")

    def lr(self, layer: int) -> float:
        top = max(self.layers)
        return self.top_lr * self.decay ** (top - layer)

    def trainable_at(self, t: int) -> tuple[int, ...]:
        """Layers that are trainable at step/epoch ``t``."""
        return tuple(layer for layer, start in zip(self.layers, self.at, strict=True) if start <= t)

    @classmethod
    def every(cls, n: int, *, layers: tuple[int, ...] = (12, 11, 10, 9), **kwargs: Any) -> UnfreezeSchedule:
        """One more layer every ``n`` units, the first at 0."""
        return cls(layers=layers, at=tuple(i * n for i in range(len(layers))), **kwargs)


def discriminative_param_groups(
    backbone: MuQBackbone,
    schedule: UnfreezeSchedule,
    head: Iterable[nn.Parameter] = (),
    head_lr: float | None = None,
) -> list[dict[str, Any]]:
    """AdamW parameter groups: one per scheduled layer (its own rate), plus the head at ``head_lr``."""
    depth = backbone.config.encoder_depth
    bad = [i for i in schedule.layers if not 1 <= i <= depth]
    if bad:
        raise ValueError(f"unfreeze schedule names layers {bad} but this MuQ has {depth}")
    groups: list[dict[str, Any]] = [
        {"params": backbone.layer_parameters(layer), "lr": schedule.lr(layer), "name": f"muq_layer_{layer}"}
        for layer in schedule.layers
    ]
    head_params = [p for p in head if p.requires_grad]
    if head_params:
        group: dict[str, Any] = {"params": head_params, "name": "head"}
        if head_lr is not None:
            group["lr"] = head_lr
        groups.append(group)
    return groups


class GradualUnfreezing(L.Callback):
    """Unfreeze ``backbone`` layers on ``schedule`` during ``Trainer.fit`` (everything else stays frozen).

    ``backbone`` is found on the LightningModule by ``attr`` path (e.g. ``"model.backbone"``) or given
    directly.
    ``history`` records ``(t, layer)`` for every unfreezing, for tests and logs.
    """

    def __init__(self, schedule: UnfreezeSchedule, backbone: MuQBackbone | None = None, attr: str = "model.backbone"):
        super().__init__()
        self.schedule = schedule
        self._backbone = backbone
        self.attr = attr
        self.unfrozen: set[int] = set()
        self.history: list[tuple[int, int]] = []

    def _resolve(self, pl_module: L.LightningModule) -> MuQBackbone:
        if self._backbone is not None:
            return self._backbone
        obj: Any = pl_module
        for part in self.attr.split("."):
            obj = getattr(obj, part)
        if not isinstance(obj, MuQBackbone):
            raise TypeError(f"{self.attr} on the LightningModule is a {type(obj).__name__}, not a MuQBackbone")
        return obj

    def apply(self, backbone: MuQBackbone, t: int) -> list[int]:
        """Unfreeze every layer due at ``t``; returns the newly unfrozen layers."""
        new = [layer for layer in self.schedule.trainable_at(t) if layer not in self.unfrozen]
        for layer in new:
            for p in backbone.layer_parameters(layer):
                p.requires_grad_(True)
            self.unfrozen.add(layer)
            self.history.append((t, layer))
        if new:
            backbone.train(backbone.training)  # re-apply the frozen-modules-in-eval rule
        return new

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        backbone = self._resolve(pl_module)
        backbone.freeze()
        self.unfrozen.clear()
        self.history.clear()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        backbone = self._resolve(pl_module)
        if self.schedule.unit == "epoch":
            self.apply(backbone, trainer.current_epoch)
        backbone.train(True)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self.schedule.unit == "step":
            self.apply(self._resolve(pl_module), trainer.global_step)
