"""Lightning modules of the shared recipe: self-supervised pretraining and supervised fine-tuning."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import lightning as L
import torch
from torch import nn

from piano_eval.training.config import TrainConfig

LossFn = Callable[[torch.Tensor, Mapping[str, Any]], torch.Tensor | dict[str, torch.Tensor]]


def cosine_with_warmup(total_steps: int, warmup_frac: float, min_ratio: float = 0.0) -> Callable[[int], float]:
    """LR multiplier: linear warmup over ``warmup_frac`` of the steps, then cosine decay to ``min_ratio``."""
    warmup = max(1, round(total_steps * warmup_frac))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


class RecipeModule(L.LightningModule):
    """Base: AdamW over ``param_groups()`` with the cosine/warmup schedule stepped every optimizer step."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        super().__init__()
        self.model = model
        self.cfg = cfg

    def param_groups(self) -> list[dict[str, Any]] | Iterable[nn.Parameter]:
        """Parameter groups for AdamW. Models may define ``param_groups(base_lr)`` (discriminative rates)."""
        if hasattr(self.model, "param_groups"):
            return self.model.param_groups(self.cfg.lr)  # type: ignore[no-any-return, operator]
        return [p for p in self.model.parameters() if p.requires_grad]

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.param_groups(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        total = int(self.trainer.estimated_stepping_batches) if self._trainer is not None else 1000
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, cosine_with_warmup(max(total, 1), self.cfg.warmup_frac, self.cfg.min_lr_ratio)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def _log_terms(self, prefix: str, out: torch.Tensor | Mapping[str, torch.Tensor], batch_size: int) -> torch.Tensor:
        terms = {"loss": out} if isinstance(out, torch.Tensor) else dict(out)
        if "loss" not in terms:
            raise KeyError("a loss dict must hold the total under 'loss'")
        for name, value in terms.items():
            self.log(
                f"{prefix}_{name}",
                value.detach().float(),
                prog_bar=name == "loss",
                batch_size=batch_size,
                on_step=False,
                on_epoch=True,
                sync_dist=prefix != "train",
            )
        return terms["loss"]


def _batch_size(batch: Any) -> int:
    if isinstance(batch, Mapping):
        for value in batch.values():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                return int(value.shape[0])
    return 1


class SelfSupervisedModule(RecipeModule):
    """Wraps any model with ``pretraining_loss(batch, **loss_kwargs) -> Tensor | {'loss': Tensor, ...}``.

    ``loss_kwargs`` hands the model the objectives it does not own (e.g. ``piece_contrast`` from piano_fusion
    to a symbolic encoder).
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, loss_kwargs: Mapping[str, Any] | None = None) -> None:
        super().__init__(model, cfg)
        self.loss_kwargs = dict(loss_kwargs or {})

    def _loss(self, batch: Any) -> torch.Tensor | dict[str, torch.Tensor]:
        return self.model.pretraining_loss(batch, **self.loss_kwargs)  # type: ignore[operator, no-any-return]

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._log_terms("train", self._loss(batch), _batch_size(batch))

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._log_terms("val", self._loss(batch), _batch_size(batch))


def mse_loss(pred: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
    """:func:`piano_fusion.regression_loss` against ``batch['labels']`` (NaN labels ignored)."""
    from piano_fusion import regression_loss

    return regression_loss(pred, batch["labels"].to(pred.dtype))


class SupervisedModule(RecipeModule):
    """``model(batch) -> [B, 19]`` predictions; ``loss_fn(pred, batch)`` (default MSE on ``batch['labels']``).

    Validation logs ``val_loss`` and, from the collected predictions, ``val_r2`` and ``val_pairwise`` computed
    with :mod:`piano_eval.metrics` (same-piece pairs need ``batch['group']``, a list of group ids).
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, loss_fn: LossFn | None = None) -> None:
        super().__init__(model, cfg)
        self.loss_fn: LossFn = loss_fn or mse_loss
        self._val_preds: list[torch.Tensor] = []
        self._val_labels: list[torch.Tensor] = []
        self._val_groups: list[str] = []

    def forward(self, batch: Any) -> torch.Tensor:
        return self.model(batch)  # type: ignore[no-any-return]

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        pred = self.model(batch)
        return self._log_terms("train", self.loss_fn(pred, batch), _batch_size(batch))

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        pred = self.model(batch)
        self._log_terms("val", self.loss_fn(pred, batch), _batch_size(batch))
        self._val_preds.append(pred.detach().float().cpu())
        self._val_labels.append(batch["labels"].detach().float().cpu())
        self._val_groups.extend(batch.get("group", ["?"] * pred.shape[0]))

    def on_validation_epoch_end(self) -> None:
        if not self._val_preds:
            return
        from piano_eval import metrics

        pred = torch.cat(self._val_preds).numpy()
        labels = torch.cat(self._val_labels).numpy()
        if len(pred) >= 2:
            self.log("val_r2", float(metrics.r2(labels, pred)), prog_bar=True)
            pw = metrics.pairwise_accuracy(labels, pred, self._val_groups)
            self.log("val_pairwise", float(pw) if pw == pw else 0.0, prog_bar=True)
        self._val_preds.clear()
        self._val_labels.clear()
        self._val_groups.clear()

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> torch.Tensor:
        return self.model(batch).detach().float().cpu()


class MultiTierModule(SupervisedModule):
    """Fine-tuning on the data tiers: training batches are ``(tier, batch)`` from a
    :class:`piano_data.TierMixer` (see :func:`~piano_eval.training.tiers.tier_loader`), each trained on its
    term of ``objective`` (a :class:`piano_fusion.TierObjective`) and logged as ``train_<tier>_<term>``.

    A plain batch (no tier) is a T1 batch. Validation is the labelled objective on T1 batches, as in
    :class:`SupervisedModule` (``val_loss``, ``val_mse``, ``val_r2``, ``val_pairwise``).
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, objective: Any) -> None:
        super().__init__(model, cfg, objective.labelled)
        self.objective = objective

    def on_train_epoch_start(self) -> None:
        loader: Any = self.trainer.train_dataloader if self._trainer is not None else None
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(self.current_epoch)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        from piano_eval.training.tiers import tier_step

        tier, data = batch if isinstance(batch, tuple | list) else ("t1", batch)
        terms = tier_step(self.model, str(tier), data, self.objective)
        size = int(data["n"]) * 2 if "n" in data else _batch_size(data)
        return self._log_terms(f"train_{tier}", terms, size)
