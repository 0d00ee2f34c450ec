"""A1: LoRA adapters (through peft) on the self-attention projections of chosen MuQ layers.

The backbone stays a :class:`~piano_audio.backbone.MuQBackbone` (peft's ``inject_adapter_in_model`` mutates
it in
place); every base parameter is frozen. Adapters are saved and loaded on their own (``adapter_config.json`` +
``adapter_model.safetensors``, a few MB), apart from the backbone weights.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model, set_peft_model_state_dict
from piano_data.atomic import atomic_path, write_text_atomic
from piano_data.errors import PianoDataError
from torch import nn

from piano_audio.backbone import MuQBackbone

__all__ = [
    "ATTENTION_PROJECTIONS",
    "MuQLoRAConfig",
    "apply_lora",
    "has_lora",
    "load_lora",
    "lora_parameters",
    "save_lora",
    "trainable_fraction",
]

#: Names of the Conformer self-attention projections (``Wav2Vec2ConformerSelfAttention``).
ATTENTION_PROJECTIONS: tuple[str, ...] = ("linear_q", "linear_k", "linear_v", "linear_out")
_ADAPTER_FILE = "adapter_model.safetensors"
_CONFIG_FILE = "adapter_config.json"


@dataclass(frozen=True)
class MuQLoRAConfig:
    """Rank, scaling and placement of the adapters. ``layers`` are 1-based Conformer layers."""

    rank: int = 16
    alpha: float | None = None  # default: 2 * rank
    dropout: float = 0.05
    layers: tuple[int, ...] = (9, 10, 11, 12)
    targets: tuple[str, ...] = ATTENTION_PROJECTIONS

    def __post_init__(self) -> None:
        if not 1 <= self.rank <= 256:
            raise ValueError(f"LoRA rank must be in 1..256 (16-64 recommended), got {self.rank}")
        if not self.layers or not self.targets:
            raise ValueError("LoRA needs at least one layer and one target module name")

    @property
    def scale_alpha(self) -> float:
        return float(self.alpha if self.alpha is not None else 2 * self.rank)

    def target_regex(self) -> str:
        """A full-match regex over module names (peft matches a string ``target_modules`` with
        ``re.fullmatch``)."""
        layers = "|".join(str(i - 1) for i in self.layers)
        names = "|".join(re.escape(t) for t in self.targets)
        return rf"(.*\.)?conformer\.layers\.({layers})\.self_attn\.({names})"

    def peft_config(self) -> LoraConfig:
        return LoraConfig(
            r=self.rank,
            lora_alpha=self.scale_alpha,  # type: ignore[arg-type]  # peft accepts floats
            lora_dropout=self.dropout,
            target_modules=self.target_regex(),
            bias="none",
        )


def _matching_modules(backbone: MuQBackbone, cfg: MuQLoRAConfig) -> list[str]:
    pattern = re.compile(cfg.target_regex())
    return [name for name, m in backbone.named_modules() if isinstance(m, nn.Linear) and pattern.fullmatch(name)]


def has_lora(module: nn.Module) -> bool:
    return any("lora_" in name for name, _ in module.named_parameters())


def apply_lora(backbone: MuQBackbone, cfg: MuQLoRAConfig | None = None) -> MuQBackbone:
    """Freeze ``backbone`` and inject LoRA adapters in place; returns the same object.

    Raises :class:`PianoDataError` when the targets match no module (wrong layer numbers or module names).
    """
    cfg = cfg or MuQLoRAConfig()
    if has_lora(backbone):
        raise ValueError("this backbone already carries LoRA adapters")
    matched = _matching_modules(backbone, cfg)
    if not matched:
        raise PianoDataError(
            None,
            f"LoRA targets {list(cfg.targets)} in layers {list(cfg.layers)} match no module of this MuQ "
            f"({backbone.config.encoder_depth} layers; attention projections are named "
            f"{list(ATTENTION_PROJECTIONS)})",
        )
    missing_layers = sorted(set(cfg.layers) - set(range(1, backbone.config.encoder_depth + 1)))
    if missing_layers:
        raise PianoDataError(
            None,
            f"LoRA layers {missing_layers} do not exist (this MuQ has {backbone.config.encoder_depth} layers)",
        )
    backbone.freeze()
    inject_adapter_in_model(cfg.peft_config(), backbone)
    backbone.train(backbone.training)  # new adapter modules (dropout) follow the backbone's mode
    backbone.lora_config = cfg  # type: ignore[assignment]
    return backbone


def lora_parameters(module: nn.Module) -> list[nn.Parameter]:
    return [p for name, p in module.named_parameters() if "lora_" in name]


def trainable_fraction(module: nn.Module) -> float:
    """Trainable parameters / all parameters (works on meta-device models)."""
    total = sum(p.numel() for p in module.parameters())
    return sum(p.numel() for p in module.parameters() if p.requires_grad) / max(total, 1)


def save_lora(backbone: MuQBackbone, folder: str | os.PathLike[str]) -> Path:
    """Write only the adapters (and their config) into ``folder``, atomically."""
    from safetensors.torch import save_file

    cfg: MuQLoRAConfig | None = getattr(backbone, "lora_config", None)
    if cfg is None or not has_lora(backbone):
        raise ValueError("this backbone has no LoRA adapters to save (call apply_lora first)")
    state = {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(backbone).items()}
    meta: dict[str, Any] = {
        "lora": asdict(cfg),
        "encoder_dim": backbone.config.encoder_dim,
        "format": "piano_audio.lora/1",
    }
    out = Path(folder)
    with atomic_path(out / _ADAPTER_FILE) as tmp:
        save_file(state, str(tmp))
    write_text_atomic(out / _CONFIG_FILE, json.dumps(meta, indent=2))
    return out


def load_lora(backbone: MuQBackbone, folder: str | os.PathLike[str]) -> MuQBackbone:
    """Inject adapters saved by :func:`save_lora` into ``backbone`` (in place) and load their weights."""
    from safetensors.torch import load_file

    where = Path(folder)
    cfg_file, weights_file = where / _CONFIG_FILE, where / _ADAPTER_FILE
    if not cfg_file.is_file() or not weights_file.is_file():
        raise PianoDataError(where, f"not a LoRA adapter directory (needs {_CONFIG_FILE} and {_ADAPTER_FILE})")
    try:
        meta = json.loads(cfg_file.read_text())
        raw = dict(meta["lora"])
        cfg = MuQLoRAConfig(**{**raw, "layers": tuple(raw["layers"]), "targets": tuple(raw["targets"])})
        state = load_file(str(weights_file))
    except Exception as exc:
        raise PianoDataError(where, f"unreadable LoRA adapter ({str(exc).splitlines()[0]})") from None
    if int(meta.get("encoder_dim", backbone.config.encoder_dim)) != backbone.config.encoder_dim:
        raise PianoDataError(
            where,
            f"adapter was trained on a {meta['encoder_dim']}-wide MuQ, this backbone is {backbone.config.encoder_dim}",
        )
    apply_lora(backbone, cfg)
    expected = {k: v.shape for k, v in get_peft_model_state_dict(backbone).items()}
    wrong = [k for k in expected if k not in state or state[k].shape != expected[k]]
    if wrong:
        raise PianoDataError(
            where, f"adapter does not fit this backbone ({len(wrong)} tensors differ, e.g. {wrong[0]})"
        )
    with torch.no_grad():
        set_peft_model_state_dict(backbone, state)
    return backbone
