"""The shared Lightning training recipe."""

from piano_eval.training.config import HARDWARE_OPTIONS, TrainConfig, hardware_options
from piano_eval.training.fit import build_trainer, fit_module
from piano_eval.training.modules import (
    MultiTierModule,
    RecipeModule,
    SelfSupervisedModule,
    SupervisedModule,
    cosine_with_warmup,
    mse_loss,
)
from piano_eval.training.tiers import tier_loader, tier_objective, tier_step

__all__ = [
    "HARDWARE_OPTIONS",
    "MultiTierModule",
    "RecipeModule",
    "SelfSupervisedModule",
    "SupervisedModule",
    "TrainConfig",
    "build_trainer",
    "cosine_with_warmup",
    "fit_module",
    "hardware_options",
    "mse_loss",
    "tier_loader",
    "tier_objective",
    "tier_step",
]
