"""One function that trains any recipe module with the project's Trainer settings."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from piano_data.progress import progress_disabled
from piano_data.rng import seeded
from torch.utils.data import BatchSampler, DataLoader

from piano_eval.training.config import TrainConfig

log = logging.getLogger(__name__)


def build_trainer(
    cfg: TrainConfig,
    workdir: Path,
    *,
    monitor: str | None = "val_loss",
    mode: Literal["min", "max"] = "min",
    name: str = "run",
    use_distributed_sampler: bool = True,
) -> tuple[L.Trainer, ModelCheckpoint | None]:
    """The project's Lightning ``Trainer``: clipping, early stopping, top-k checkpoints, CSV + TensorBoard logs.

    Accelerator, devices, nodes, strategy and precision come from ``cfg`` unchanged (scale-out is Lightning's).
    ``use_distributed_sampler=False`` when the loaders shard themselves under DDP (see :func:`fit_module`).
    It leaves torch's global flags alone (no ``deterministic`` or ``benchmark`` setting).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    callbacks: list[L.Callback] = [LearningRateMonitor(logging_interval="step")]
    checkpoint = None
    if monitor is not None:
        checkpoint = ModelCheckpoint(
            dirpath=workdir / "checkpoints",
            filename=f"{name}-{{epoch:02d}}-{{{monitor}:.4f}}",
            monitor=monitor,
            mode=mode,
            save_top_k=cfg.save_top_k,
            auto_insert_metric_name=False,
        )
        callbacks += [checkpoint, EarlyStopping(monitor=monitor, mode=mode, patience=cfg.patience)]
    loggers = [CSVLogger(workdir, name="csv", version=name)]
    try:
        loggers.append(TensorBoardLogger(workdir, name="tensorboard", version=name))  # type: ignore[arg-type]
    except ModuleNotFoundError:  # tensorboard is optional at runtime
        log.info("tensorboard not installed: CSV logs only")
    trainer = L.Trainer(
        max_epochs=cfg.max_epochs,
        max_steps=cfg.max_steps,
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        num_nodes=cfg.num_nodes,
        strategy=cfg.strategy,
        precision=cfg.precision,
        gradient_clip_val=cfg.grad_clip,
        callbacks=callbacks,
        logger=loggers,
        log_every_n_steps=cfg.log_every_n_steps,
        enable_progress_bar=cfg.progress_bar and not progress_disabled(),
        enable_model_summary=False,
        check_val_every_n_epoch=cfg.check_val_every_n_epoch,
        default_root_dir=workdir,
        use_distributed_sampler=use_distributed_sampler,
    )
    return trainer, checkpoint


def fit_module(
    module: L.LightningModule,
    train_loader: DataLoader | Iterable[Any],
    val_loader: DataLoader | None,
    cfg: TrainConfig,
    workdir: Path,
    *,
    monitor: str | None = "val_loss",
    mode: Literal["min", "max"] = "min",
    name: str = "run",
    restore_best: bool = True,
) -> Path | None:
    """Train ``module`` and return the best checkpoint path (``None`` without validation).

    ``train_loader`` is a ``DataLoader`` or any sized iterable of batches (a :class:`piano_data.TierMixer`).

    Training runs seeded with ``cfg.seed`` (shuffling, dropout, sampling); the caller's global random states
    are restored afterwards. With ``restore_best`` the module's weights are reset to the best checkpoint
    before returning.

    Under a distributed strategy (``cfg.strategy="ddp"``, ``devices > 1`` or ``num_nodes > 1``) Lightning
    shards plain loaders with its ``DistributedSampler``; a loader with its own batch sampler (the experiments'
    :class:`piano_data.tiers.pieces.SamePieceBatchSampler`, which Lightning cannot wrap) shards itself, and then
    Lightning's sampler is off for every loader (each process validates on the whole validation set).
    """
    if val_loader is None:
        monitor = None
    own = any(_own_batch_sampler(loader) for loader in (train_loader, val_loader) if loader is not None)
    trainer, checkpoint = build_trainer(
        cfg, Path(workdir), monitor=monitor, mode=mode, name=name, use_distributed_sampler=not own
    )
    with warnings.catch_warnings(), seeded(cfg.seed):
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*number of training batches.*")
        warnings.filterwarnings("ignore", message=".*LeafSpec.*")
        trainer.fit(module, train_dataloaders=train_loader, val_dataloaders=val_loader)
    best = Path(checkpoint.best_model_path) if checkpoint and checkpoint.best_model_path else None
    if restore_best and best is not None and best.is_file():
        state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)
    return best


def _own_batch_sampler(loader: Any) -> bool:
    """A batch sampler other than torch's ``BatchSampler``, or no ``DataLoader`` at all (a
    :class:`piano_data.TierMixer`): Lightning cannot put a distributed sampler into it."""
    if not isinstance(loader, DataLoader):
        return True
    return loader.batch_sampler is not None and type(loader.batch_sampler) is not BatchSampler
