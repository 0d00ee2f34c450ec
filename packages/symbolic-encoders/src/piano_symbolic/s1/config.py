"""S1 configuration and named presets."""

from __future__ import annotations

from dataclasses import dataclass

from piano_data.contracts import SYMBOLIC_DIM

__all__ = ["S1Config", "s1_base", "s1_quick", "s1_small", "s1_tiny"]


@dataclass(frozen=True)
class S1Config:
    """Transformer over REMI tokens with a BERT masked-token head.

    ``max_len`` is the attention window: longer token sequences are encoded in non-overlapping windows of
    ``max_len`` tokens (see :func:`piano_symbolic.common.chunked`); ``max_tokens`` truncates what the
    featurizer
    keeps of one performance (the tail is dropped).
    """

    vocab_size: int = 455
    d_model: int = 512
    n_layers: int = 8
    n_heads: int = 8
    d_ff: int = 2048
    dropout: float = 0.1
    max_len: int = 1024
    max_tokens: int = 4096
    output_dim: int = SYMBOLIC_DIM
    mask_prob: float = 0.15
    contrastive_weight: float = 0.1
    temperature: float = 0.1


def s1_tiny(vocab_size: int = 455) -> S1Config:
    """Test preset: 2 layers of width 32."""
    return S1Config(vocab_size, d_model=32, n_layers=2, n_heads=2, d_ff=64, dropout=0.0, max_len=64, max_tokens=256)


def s1_quick(vocab_size: int = 455) -> S1Config:
    """2-CPU preset for `piano-eval run --size quick`: 2 layers of width 64, 128-token attention windows."""
    return S1Config(vocab_size, d_model=64, n_layers=2, n_heads=4, d_ff=128, max_len=128, max_tokens=512)


def s1_small(vocab_size: int = 455) -> S1Config:
    """4 layers of width 256 (about 3M parameters)."""
    return S1Config(vocab_size, d_model=256, n_layers=4, n_heads=4, d_ff=1024, max_len=512, max_tokens=2048)


def s1_base(vocab_size: int = 455) -> S1Config:
    """8 layers of width 512, 8 heads (about 25M parameters)."""
    return S1Config(vocab_size)
