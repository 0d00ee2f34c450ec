"""S4 (aligned-note encoder) configuration and named presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from piano_data.contracts import SYMBOLIC_DIM

__all__ = ["S4Config", "s4_full", "s4_quick", "s4_tiny"]


@dataclass(frozen=True)
class S4Config:
    """An encoder over one token per score note, with the performer's deviations attached (:mod:`.tokens`).

    ``body`` is a pre-norm Transformer (``n_layers`` x ``n_heads``, feed-forward ``d_ff``) or a bidirectional
    GRU of ``n_layers`` layers (``d_model / 2`` units per direction). Sequences longer than ``max_notes`` are
    truncated (tail dropped). Pretraining masks the deviations of a ``mask_prob`` share of the tokens and
    predicts :data:`~piano_symbolic.s4.tokens.TARGETS` there; ``contrast_dim`` is the width of the projection of
    the cross-performer InfoNCE (temperature ``temperature``), weighted ``contrast_weight``.
    """

    body: Literal["transformer", "gru"] = "transformer"
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 1024
    dropout: float = 0.1
    max_notes: int = 512
    max_bars: int = 64  # relative bar embedding (bar index within the sequence, clipped)
    output_dim: int = SYMBOLIC_DIM
    mask_prob: float = 0.2
    contrast_dim: int = 64
    temperature: float = 0.1
    contrast_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.body not in ("transformer", "gru"):
            raise ValueError(f"S4Config.body must be 'transformer' or 'gru', got {self.body!r}")
        if self.body == "transformer" and self.d_model % self.n_heads:
            raise ValueError(f"S4Config: d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if self.body == "gru" and self.d_model % 2:
            raise ValueError(f"S4Config: a GRU body needs an even d_model, got {self.d_model}")
        if not 0.0 < self.mask_prob < 1.0:
            raise ValueError(f"S4Config.mask_prob must be in (0, 1), got {self.mask_prob}")


def s4_tiny() -> S4Config:
    """Tests: 16 wide, one layer."""
    return S4Config(d_model=16, n_layers=1, n_heads=2, d_ff=32, max_notes=128, output_dim=16, contrast_dim=8)


def s4_quick() -> S4Config:
    """Two shared CPU cores: 48 wide, two layers (about 60k parameters)."""
    return S4Config(d_model=48, n_layers=2, n_heads=4, d_ff=96, max_notes=384, output_dim=48, contrast_dim=32)


def s4_full() -> S4Config:
    """A GPU: 256 wide, four layers, 512-dim output (the fusion's symbolic width)."""
    return S4Config(d_model=256, n_layers=4, n_heads=4, d_ff=1024, max_notes=768, output_dim=SYMBOLIC_DIM)
