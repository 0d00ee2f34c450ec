"""The shared Lightning training recipe."""

from piano_eval.training.config import HARDWARE_OPTIONS, TrainConfig, hardware_options
from piano_eval.training.fit import build_trainer, fit_module
from piano_eval.training.modules import (
    RecipeModule,
    SelfSupervisedModule,
    SupervisedModule,
    cosine_with_warmup,
    mse_loss,
)

__all__ = [
    "HARDWARE_OPTIONS",
    "RecipeModule",
    "SelfSupervisedModule",
    "SupervisedModule",
    "TrainConfig",
    "build_trainer",
    "cosine_with_warmup",
    "fit_module",
    "hardware_options",
    "mse_loss",
]
