"""The training recipe's configuration, shared by every experiment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

Precision = Literal["32-true", "bf16-mixed", "16-mixed"]


@dataclass(frozen=True)
class TrainConfig:
    """AdamW + cosine schedule with linear warmup, gradient clipping, early stopping, top-k checkpoints.

    GPU and multi-node runs are configuration only: ``accelerator="gpu"``, ``devices=8``, ``num_nodes=2``,
    ``strategy="ddp"``, ``precision="bf16-mixed"``, all handed to Lightning's ``Trainer`` as they are.
    ``batch_size`` is the batch of one device (the global batch is ``batch_size * devices * num_nodes``).
    ``precision="bf16-mixed"`` also works on the CPU.
    """

    max_epochs: int = 30
    max_steps: int = -1
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_frac: float = 0.05
    min_lr_ratio: float = 0.0
    grad_clip: float = 1.0
    patience: int = 15
    save_top_k: int = 3
    batch_size: int = 16
    precision: Precision = "32-true"
    accelerator: str = "cpu"
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"
    seed: int = 0
    num_workers: int = 0
    log_every_n_steps: int = 10
    progress_bar: bool = True
    check_val_every_n_epoch: int = 1

    def with_(self, **changes: Any) -> TrainConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The run options (``RunContext.options``, from ``--accelerator --devices --num-nodes --strategy --precision``)
#: that say where and how Lightning trains.
HARDWARE_OPTIONS = ("accelerator", "devices", "num_nodes", "strategy", "precision")


def hardware_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`TrainConfig` fields of :data:`HARDWARE_OPTIONS` set in a run's ``options`` (unset or ``None``
    ones keep the defaults), typed: ``devices`` an int unless it is e.g. ``"auto"``, ``num_nodes`` an int."""
    out: dict[str, Any] = {k: options[k] for k in HARDWARE_OPTIONS if options.get(k) not in (None, "")}
    if "devices" in out:
        out["devices"] = int(out["devices"]) if str(out["devices"]).isdigit() else str(out["devices"])
    if "num_nodes" in out:
        out["num_nodes"] = int(out["num_nodes"])
    for key in ("accelerator", "strategy", "precision"):
        if key in out:
            out[key] = str(out[key])
    return out
